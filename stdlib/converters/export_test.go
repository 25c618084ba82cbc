package converters

// ValidJSON is validJSON, for the benchmarks of package converters_test.
var ValidJSON = validJSON
