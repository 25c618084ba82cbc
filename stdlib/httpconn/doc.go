// Package httpconn holds the built-in HTTP connectors: source "http" (an
// endpoint that takes POSTed records), source "http_poll" (polls a REST
// endpoint) and sink "http" (POSTs batches of records). The package is not
// called http so as not to shadow net/http.
//
// Source "http" answers a request 200 only once every record of it is
// acknowledged by Kafka (connector.Source.Acked: written and acknowledged
// by the in-sync replicas, or sent to the dead-letter topic): a client
// that retries whatever did not get a 2xx never loses a record, and may
// duplicate some (at least once). A request's records are all accepted or
// none: a body that does not parse as a whole is answered 400 with the
// reason. Requests take room in a queue of queue_size records until Kafka
// has them; one that does not fit is answered 429 with Retry-After (back
// pressure, nothing is dropped). The records carry no SourceOffset:
// nothing can be read again, the client's retry is the redelivery.
//
// Source "http_poll" fetches url, takes the records from the response
// with the records expression and the next page with the next
// expression, and saves the URL of the next page as its source offset
// (partition {"url": url}), so that a restart resumes there.
//
// Sink "http" delivers each Write before it returns (Flush has nothing
// left): records are grouped by the URL their url expression gives, in
// batches of batch_size, retried with exponential backoff on 5xx, 429,
// 408 and network errors (Retry-After honoured). A batch refused with
// another 4xx is split in halves until the refused records stand alone;
// each is a record failure (connector.RecordRejected) whose dead-letter
// copy carries pipectl.http.status and pipectl.http.response_body.
//
// It imports the plugin SDK, lang/configschema, stdlib/converters (the
// JSON codec) and cenkalti/backoff.
package httpconn
