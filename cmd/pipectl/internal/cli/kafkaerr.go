package cli

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/pipectl/pipectl/runtime/kafka"
)

// unreachableSummary is the summary of every error that says the fleet's
// cluster could not be reached.
const unreachableSummary = "Cannot reach the fleet's Kafka cluster"

// kafkaError shows an error of talking to the fleet's cluster under
// summary. When no broker could be reached (a stopped broker, a wrong
// address) it is one sentence that names the brokers tried and what to
// check, instead of the chain of every layer the error went through; that
// chain follows only with PIPECTL_LOG=debug.
func (m *meta) kafkaError(summary string, err error) {
	m.view().Error(kafkaErrorText(summary, m.brokers, err, logLevel(m, slog.LevelInfo) <= slog.LevelDebug))
}

// kafkaErrorText is kafkaError's summary and detail.
func kafkaErrorText(summary string, brokers []string, err error, debug bool) (string, string) {
	cause := kafka.UnreachableCause(err)
	if cause == "" {
		return summary, err.Error()
	}
	which := "the brokers " + strings.Join(brokers, ", ")
	switch len(brokers) {
	case 0:
		which = "the fleet's brokers"
	case 1:
		which = "the broker " + brokers[0]
	}
	detail := fmt.Sprintf("pipectl could not connect to %s (%s). Check that the cluster is running and reachable from here, and that -brokers, PIPECTL_BROKERS or the fleet block's brokers name it.", which, cause)
	if debug {
		return unreachableSummary, detail + "\n\nThe whole error: " + err.Error()
	}
	return unreachableSummary, detail + " Run with PIPECTL_LOG=debug to see the whole error."
}
