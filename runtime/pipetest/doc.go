// Package pipetest runs the tests of pipectl test: for every run block of
// a configuration's test files (lang/testfile) it loads the configuration
// with the run's variables, compiles the pipeline under test with
// runtime/engine, runs the run's records through engine.Offline (the
// converters and transforms of the task loops themselves, without Kafka
// and without the connector) and checks the expectations: output
// records, filtered and dead-lettered records, and CEL assertions over
// each output record.
//
// It imports lang, lang/testfile, runtime/connector,
// runtime/control, runtime/engine and runtime/schemaregistry (an in-memory
// registry for converters); never planner, stdlib or cmd (the
// plugins come in through a connector.Registry).
package pipetest
