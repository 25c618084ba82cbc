package kafka

// TaskOf is taskOf, for the tests of package kafka_test.
var TaskOf = taskOf
