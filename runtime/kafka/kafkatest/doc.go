// Package kafkatest starts an embedded broker for a test: Start gives a
// broker on a free port of 127.0.0.1, closed by t.Cleanup, and the
// kafka.Config that reaches it.
//
// It is the one package of runtime/kafka that imports testing, and only
// tests import it. It may import runtime/kafka and nothing else of the
// project.
package kafkatest
