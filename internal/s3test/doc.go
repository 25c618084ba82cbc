// Package s3test starts a private S3 server for a test: versitygw
// (github.com/versity/versitygw, go install …/cmd/versitygw@v1.8.0) with
// its POSIX backend in a temporary directory of its own, on a random
// loopback port, stopped at the test's end. The binary is found on PATH or
// in $(go env GOPATH)/bin; without it the test skips, saying how to
// install it, unless PIPECTL_REQUIRE_S3=1 (CI) makes it fail.
package s3test
