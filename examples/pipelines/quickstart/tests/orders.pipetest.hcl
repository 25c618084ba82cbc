# Tests of the quickstart's transforms, run offline by
#
#   pipectl test examples/pipelines/quickstart

# drop_small keeps orders of 10 or more; mask_pii hashes external emails
# and drops the card, and leaves corporate customers alone.
run "masks_external_emails" {
  pipeline = source.generator.orders

  record {
    value = { id = 1, email = "u1@example.com", amount = 42, card = "4111" }
  }
  record {
    value = { id = 2, email = "u2@example.com", amount = 3, card = "4111" }
  }
  record {
    value = { id = 3, email = "u3@corp.example", amount = 10, card = "4111" }
  }

  expect {
    records = [
      { topic = "shop.dev.orders", value = { id = 1, email = "6228d577ed8b4c57b0388fbef9d63caed2ca3c1cca39bc8db1253cf22f80beae", amount = 42 } },
      { topic = "shop.dev.orders", value = { id = 3, email = "u3@corp.example", amount = 10, card = "4111" } },
    ]
    filtered = 1
  }

  assert {
    condition     = "!has(value.card) || value.email.endsWith('@corp.example')"
    error_message = "An external customer's card number got through."
  }
}

# The topic follows the env variable.
run "topic_per_environment" {
  pipeline = source.generator.orders

  variables {
    env = "prod"
  }

  record {
    value = { id = 1, email = "ops@corp.example", amount = 99 }
  }

  expect {
    records = [{ topic = "shop.prod.orders" }]
  }
}

# The file sink tolerates bad records: they go to the dead-letter topic
# instead of failing the task.
run "bad_json_is_dead_lettered" {
  pipeline = sink.file.orders_out

  record {
    value = { id = 1, email = "u1@example.com", amount = 42 }
  }
  record {
    value_raw = "{\"id\": 2, \"email\": "
  }

  expect {
    records      = [{ value = { id = 1, email = "u1@example.com", amount = 42 } }]
    dead_letters = [{ stage = "converter", class = "converters.Error" }]
  }
}
