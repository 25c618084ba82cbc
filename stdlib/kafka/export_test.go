package kafka

// TaskOf is taskOf, for the tests of package kafka_test.
var TaskOf = taskOf

// SetPollMax makes one Poll return at most n records until restore is
// called.
func SetPollMax(n int) (restore func()) {
	old := pollMax
	pollMax = n
	return func() { pollMax = old }
}
