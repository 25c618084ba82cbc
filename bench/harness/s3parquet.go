package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/pipectl/pipectl/bench/baseline"
)

// The credentials of the s3_parquet scenario's private versitygw; both
// sides read them from the AWS environment variables, which the harness
// sets for its children.
const (
	s3BenchKey    = "pipectlbench"
	s3BenchSecret = "pipectl-bench-secret-0123456789"
	s3BenchBucket = "bench"
)

// versitygwBinary finds versitygw on PATH or in $(go env GOPATH)/bin.
func versitygwBinary() string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.Split(strings.TrimSpace(string(out)), string(os.PathListSeparator))[0], "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// runS3Parquet measures Kafka → Parquet objects on a local S3 server (a
// versitygw of its own, POSIX backend): sink "s3" against
// baseline.S3Parquet (franz-go → parquet-go → minio-go), both rotating
// every baseline.S3FlushRecords records of a partition. A run is done
// when the bucket holds every full object of the input (the last,
// partial object of each partition stays open on both sides).
func runS3Parquet(ctx context.Context, e *env) (*Result, error) {
	bin := versitygwBinary()
	if bin == "" {
		return nil, errors.New("s3_parquet needs versitygw: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0")
	}
	root := filepath.Join(e.dir, "s3")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	gw, err := startProc("versitygw", []string{bin, "--access", s3BenchKey, "--secret", s3BenchSecret, "--port", addr, "posix", root}, nil, e.logPath("versitygw"))
	if err != nil {
		return nil, err
	}
	defer gw.kill()
	endpoint := "http://" + addr
	mc, err := minio.New(addr, &minio.Options{Creds: credentials.NewStaticV4(s3BenchKey, s3BenchSecret, ""), Region: "us-east-1"})
	if err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(endpoint)
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("versitygw did not answer on %s: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := mc.MakeBucket(ctx, s3BenchBucket, minio.MakeBucketOptions{}); err != nil {
		return nil, err
	}
	os.Setenv("AWS_ACCESS_KEY_ID", s3BenchKey)
	os.Setenv("AWS_SECRET_ACCESS_KEY", s3BenchSecret)
	// The full objects of the input: floor(records / rotation) per partition.
	ends, err := e.broker.adm.ListEndOffsets(ctx, e.input.Topic)
	if err != nil {
		return nil, err
	}
	var objects int64
	ends.Each(func(o kadm.ListedOffset) { objects += o.Offset / baseline.S3FlushRecords })
	e.logf("s3_parquet: %d objects of %d records expected per run", objects, baseline.S3FlushRecords)
	output := func(ctx context.Context, e *env, name string) (*output, error) {
		prefix := "run-" + name
		count := func() (int64, error) {
			var n int64
			for info := range mc.ListObjects(ctx, s3BenchBucket, minio.ListObjectsOptions{Prefix: prefix + "/", Recursive: true}) {
				if info.Err != nil {
					return 0, info.Err
				}
				n++
			}
			return n, nil
		}
		done := func() (int64, bool, error) {
			n, err := count()
			if err == nil && n > objects {
				err = fmt.Errorf("%s holds %d objects, more than the %d expected", prefix, n, objects)
			}
			return n * baseline.S3FlushRecords, n == objects, err
		}
		cleanup := func() { os.RemoveAll(filepath.Join(root, s3BenchBucket, prefix)) }
		return &output{target: prefix, done: done, cleanup: cleanup}, nil
	}
	return runThroughput(ctx, e, throughput{
		records: objects * baseline.S3FlushRecords,
		output:  output,
		pipeline: func(e *env, target string) string {
			return fmt.Sprintf("sink \"s3\" \"bench\" {\n  topics        = [%q]\n  endpoint      = %q\n  bucket        = %q\n  prefix        = %q\n  format        = \"parquet\"\n  compression   = \"snappy\"\n  flush_records = %d\n}\n",
				e.input.Topic, endpoint, s3BenchBucket, target, baseline.S3FlushRecords)
		},
		baseline: func(e *env, target, group string) []string {
			return []string{"-name", "s3_parquet", "-brokers", e.broker.addr, "-input", e.input.Topic, "-group", group,
				"-endpoint", endpoint, "-bucket", s3BenchBucket, "-prefix", target}
		},
	})
}
