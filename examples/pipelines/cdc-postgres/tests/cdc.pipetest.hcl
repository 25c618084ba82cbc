# Tests of the change data capture pipeline, run offline by
#
#   pipectl test examples/pipelines/cdc-postgres
#
# The source's records are what postgres_cdc hands over: the key is the
# primary key, the value the change envelope (op, before, after, source).

# An update reaches the table's topic with its key and envelope.
run "update_to_kafka" {
  pipeline = source.postgres_cdc.shop

  record {
    topic = "shop.public.orders"
    key   = { id = 1 }
    value = {
      op     = "u"
      before = { id = 1 }
      after  = { id = 1, customer_id = 7, amount = "40.00" }
      source = { lsn = "0/1A2B3C4", txid = 745, schema = "public", table = "orders", ts_ms = 1764750000000 }
    }
  }

  expect {
    records = [{
      topic = "shop.public.orders"
      key   = { id = 1 }
      value = {
        op     = "u"
        before = { id = 1 }
        after  = { id = 1, customer_id = 7, amount = "40.00" }
        source = { lsn = "0/1A2B3C4", txid = 745, schema = "public", table = "orders", ts_ms = 1764750000000 }
      }
    }]
  }

  assert {
    condition     = "value.op in ['c', 'u', 'd', 'r', 't']"
    error_message = "The change has no known op."
  }
}

# A delete's tombstone (no value) is archived as it comes.
run "archive_reads_change" {
  pipeline = sink.file.changes

  record {
    value_raw = "{\"op\":\"d\",\"before\":{\"id\":3},\"source\":{\"table\":\"orders\"}}"
  }

  expect {
    records = [{ value = { op = "d", before = { id = 3 }, source = { table = "orders" } } }]
  }
}
