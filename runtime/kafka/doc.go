// Package kafka is the one owner of franz-go client construction and of the
// embedded broker for the rest of pipectl.
//
// Config says how to reach a Kafka cluster: seed brokers, SASL and TLS. It
// is built from a configuration's fleet block with ConfigFromFleet (which
// resolves the SASL password from its env:/file: reference) and turned into
// kgo options with Config.Opts, or into a client with NewClient. Every
// package that talks to the fleet's cluster gets its clients here, so that
// SASL, TLS and client defaults are decided in one place. EnsureTopics
// creates topics idempotently (several workers racing to create the same
// topic is normal); which topics a fleet needs is runtime/control's to say.
//
// StartBroker runs an embedded Kafka-protocol broker (franz-go's kfake) for
// `pipectl broker`, `pipectl dev` and tests; package kafkatest starts one
// per test.
//
// kafka may import lang and nothing else of the project. The stdlib kafka
// connectors, tests and bench/ may use franz-go directly; everything else
// goes through this package.
package kafka
