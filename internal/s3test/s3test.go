package s3test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// The root user's credentials of every server Start starts.
const (
	AccessKey = "pipectltest"
	SecretKey = "pipectl-test-secret-0123456789"
)

// Server is a running versitygw.
type Server struct {
	Endpoint string // http://127.0.0.1:PORT
	Dir      string // the POSIX backend's root: one directory per bucket
	Client   *minio.Client
}

// Binary returns versitygw's path, or "" when it is not installed.
func Binary() string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	if gopath != "" {
		p := filepath.Join(strings.Split(gopath, string(os.PathListSeparator))[0], "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Start starts a server for t and creates the buckets.
func Start(t testing.TB, buckets ...string) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		msg := "versitygw is not installed: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0 to run the S3 tests"
		if os.Getenv("PIPECTL_REQUIRE_S3") == "1" {
			t.Fatal(msg + " (PIPECTL_REQUIRE_S3=1)")
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--access", AccessKey, "--secret", SecretKey, "--port", addr, "posix", root)
	logf, err := os.Create(filepath.Join(dir, "versitygw.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
	})
	s := &Server{Endpoint: "http://" + addr, Dir: root}
	s.Client, err = minio.New(addr, &minio.Options{Creds: credentials.NewStaticV4(AccessKey, SecretKey, ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.Endpoint)
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("versitygw did not answer on %s in 30 s: %v\n%s", addr, err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, b := range buckets {
		if err := s.Client.MakeBucket(ctx, b, minio.MakeBucketOptions{}); err != nil {
			t.Fatalf("creating bucket %s: %v", b, err)
		}
	}
	return s
}

// Objects lists a bucket's object names under prefix, in lexical order.
func (s *Server) Objects(t testing.TB, bucket, prefix string) []string {
	t.Helper()
	var names []string
	for info := range s.Client.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if info.Err != nil {
			t.Fatalf("listing %s: %v", bucket, info.Err)
		}
		names = append(names, info.Key)
	}
	return names
}

// Get returns an object's bytes.
func (s *Server) Get(t testing.TB, bucket, name string) []byte {
	t.Helper()
	o, err := s.Client.GetObject(context.Background(), bucket, name, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatalf("reading %s: %v", name, err)
	}
	return b
}
