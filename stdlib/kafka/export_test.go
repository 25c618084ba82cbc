package kafka

import (
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/connector"
)

// TaskOf is taskOf, for the tests of package kafka_test.
var TaskOf = taskOf

// SetPollMax makes one Poll return at most n records until restore is
// called.
func SetPollMax(n int) (restore func()) {
	old := pollMax
	pollMax = n
	return func() { pollMax = old }
}

// Take hands fetches to the Poll of s (a source kafka task) as if its
// consumer had fetched them.
func Take(s any, fetches kgo.Fetches) ([]connector.Record, error) { return s.(*mirror).take(fetches) }
