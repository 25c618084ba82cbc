package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pipectl/pipectl/cmd/pipectl/internal/cli"
	"github.com/pipectl/pipectl/runtime/kafka"
)

// manifest is one Kubernetes object of deploy/kubernetes, as plain data.
type manifest map[string]any

// get walks path (map keys, or list indexes as ints) and returns what is
// there, nil when absent.
func (m manifest) get(path ...any) any {
	var cur any = map[string]any(m)
	for _, p := range path {
		switch k := p.(type) {
		case string:
			mm, _ := cur.(map[string]any)
			cur = mm[k]
		case int:
			l, _ := cur.([]any)
			if k >= len(l) {
				return nil
			}
			cur = l[k]
		}
	}
	return cur
}

func (m manifest) str(path ...any) string { s, _ := m.get(path...).(string); return s }

func readManifests(t *testing.T, path string) map[string]manifest {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string]manifest{}
	d := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc map[string]any // not manifest: yaml.v3 would type nested maps so too
		if err := d.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		m := manifest(doc)
		if m.str("apiVersion") == "" || m.str("kind") == "" || m.str("metadata", "name") == "" {
			t.Fatalf("%s: an object without apiVersion, kind or metadata.name: %v", path, m)
		}
		objs[m.str("kind")+"/"+m.str("metadata", "name")] = m
	}
	return objs
}

// TestDeployKubernetes checks deploy/kubernetes/worker.yaml by running a
// worker the way its Deployment runs one: the ConfigMap and Secret volumes
// written where the pod mounts them (under a temporary root), the
// Secret's variables in the environment, the container's arguments as
// written, against an embedded broker that requires what the fleet block
// asks for (SASL/SCRAM-SHA-512 over TLS, with the CA the kafka-ca Secret
// holds). Only the REST port (a free one instead of 8083) and the brokers
// (PIPECTL_BROKERS, which stands for the cluster's DNS names) differ. The
// readiness probe's path must answer 200, the liveness probe's port
// accept connections, the REST API want the Secret's token, and SIGTERM
// stop the worker well inside the termination grace period.
func TestDeployKubernetes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a worker process")
	}
	objs := readManifests(t, "../../deploy/kubernetes/worker.yaml")
	dep, ok := objs["Deployment/pipectl-worker"]
	if !ok {
		t.Fatalf("no Deployment pipectl-worker in %v", slices.Sorted(maps.Keys(objs)))
	}
	podLabels, _ := dep.get("spec", "template", "metadata", "labels").(map[string]any)
	for _, sel := range []struct {
		what string
		m    any
	}{
		{"the Deployment's selector", dep.get("spec", "selector", "matchLabels")},
		{"the PodDisruptionBudget's selector", objs["PodDisruptionBudget/pipectl-worker"].get("spec", "selector", "matchLabels")},
		{"the Service's selector", objs["Service/pipectl"].get("spec", "selector")},
	} {
		m, _ := sel.m.(map[string]any)
		if len(m) == 0 {
			t.Errorf("%s is empty or missing", sel.what)
		}
		for k, v := range m {
			if podLabels[k] != v {
				t.Errorf("%s wants %s=%v, which the pod template does not have (%v)", sel.what, k, v, podLabels)
			}
		}
	}
	spec := manifest(dep.get("spec", "template", "spec").(map[string]any))
	grace, _ := spec.get("terminationGracePeriodSeconds").(int)
	if time.Duration(grace)*time.Second <= cli.StopGrace {
		t.Errorf("terminationGracePeriodSeconds %d is not longer than a worker's clean stop (%s)", grace, cli.StopGrace)
	}
	c := manifest(spec.get("containers", 0).(map[string]any))
	if c.str("readinessProbe", "httpGet", "port") != "http" || c.str("livenessProbe", "tcpSocket", "port") != "http" || c.str("ports", 0, "name") != "http" {
		t.Errorf("the probes must use the container's port named http")
	}
	if c.get("ports", 0, "containerPort") != 8083 || objs["Service/pipectl"].str("spec", "ports", 0, "targetPort") != "http" {
		t.Errorf("the container must serve on 8083, the Service target its port http")
	}

	// The pod's file system: every mounted volume under root.
	root := t.TempDir()
	host := func(p string) string { return filepath.Join(root, p) }
	caDir := t.TempDir()
	tc, err := kafka.DevTLS(caDir, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(filepath.Join(caDir, kafka.DevCAFile))
	if err != nil {
		t.Fatal(err)
	}
	volumes := map[string]manifest{}
	for _, v := range spec.get("volumes").([]any) {
		volumes[manifest(v.(map[string]any)).str("name")] = manifest(v.(map[string]any))
	}
	for _, vm := range c.get("volumeMounts").([]any) {
		mount := manifest(vm.(map[string]any))
		vol := volumes[mount.str("name")]
		var files map[string]any
		switch {
		case vol.str("configMap", "name") != "":
			files, _ = objs["ConfigMap/"+vol.str("configMap", "name")].get("data").(map[string]any)
		case vol.str("secret", "secretName") != "":
			files, _ = objs["Secret/"+vol.str("secret", "secretName")].get("stringData").(map[string]any)
		}
		if files == nil {
			t.Fatalf("volume %s mounted at %s has no ConfigMap or Secret in the manifests", mount.str("name"), mount.str("mountPath"))
		}
		dir := host(mount.str("mountPath"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, content := range files {
			text := content.(string)
			if name == "ca.pem" {
				text = string(ca) // the placeholder stands for the brokers' CA
			}
			// Absolute paths in the files are the pod's.
			text = strings.ReplaceAll(text, `"/etc/pipectl`, `"`+host("/etc/pipectl"))
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	// The container's environment.
	env := map[string]string{"POD_NAME": "pipectl-worker-7d9f8-x2k4q"}
	for _, ef := range c.get("envFrom").([]any) {
		name := manifest(ef.(map[string]any)).str("secretRef", "name")
		data, _ := objs["Secret/"+name].get("stringData").(map[string]any)
		if data == nil {
			t.Fatalf("envFrom names Secret %s, which the manifests do not hold", name)
		}
		for k, v := range data {
			// Placeholders are replaced as an operator would: the state
			// key is 32 random bytes in base64.
			env[k] = v.(string)
			if env[k] == "change-me" {
				key := make([]byte, 32)
				_, _ = rand.Read(key)
				env[k] = base64.StdEncoding.EncodeToString(key)
			}
		}
	}
	for _, e := range c.get("env").([]any) {
		em := manifest(e.(map[string]any))
		if em.str("valueFrom", "fieldRef", "fieldPath") == "metadata.name" {
			continue // POD_NAME, set above
		}
		env[em.str("name")] = em.str("value")
	}
	for _, k := range []string{"PIPECTL_KAFKA_PASSWORD", "PIPECTL_STATE_KEY", "PIPECTL_HTTP_TOKEN"} {
		if env[k] == "" {
			t.Fatalf("the container's environment has no %s", k)
		}
	}

	b, err := kafka.StartBroker(kafka.BrokerConfig{Listen: "127.0.0.1:0", TLS: tc,
		Users: []kafka.SASL{{Mechanism: kafka.MechanismScramSHA512, Username: "pipectl", Password: env["PIPECTL_KAFKA_PASSWORD"]}}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	var args []string
	raw := c.get("args").([]any)
	for i, a := range raw {
		s := regexp.MustCompile(`\$\((\w+)\)`).ReplaceAllStringFunc(a.(string), func(ref string) string { return env[ref[2:len(ref)-1]] })
		switch {
		case i > 0 && raw[i-1] == "-http":
			s = "127.0.0.1:0"
		case strings.HasPrefix(s, "/"):
			s = host(s)
		}
		args = append(args, s)
	}
	if len(args) == 0 || args[0] != "worker" {
		t.Fatalf("the container's args %v do not run a worker", args)
	}
	cmd := exec.Command("pipectl", args...)
	cmd.Env = append(os.Environ(), "PIPECTL_BROKERS="+b.Addr())
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := regexp.MustCompile(`^worker (\S+) listening on (http://\S+)$`).FindStringSubmatch(sc.Text()); m != nil {
				if m[1] != env["POD_NAME"] {
					t.Errorf("worker id %s; want the pod's name %s", m[1], env["POD_NAME"])
				}
				urls <- m[2]
			}
		}
		exited <- cmd.Wait()
	}()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	}()
	var base string
	select {
	case base = <-urls:
	case err := <-exited:
		t.Fatalf("the worker exited before it listened: %v\n%s", err, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("the worker did not listen within 60s\n%s", stderr.String())
	}

	// Readiness: /health answers 200 once the worker reaches Kafka with
	// SASL/SCRAM over TLS.
	probe := c.str("readinessProbe", "httpGet", "path")
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, body := get(t, base+probe, "")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s = %d %s; want 200 within 60s\n%s", probe, code, body, stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Liveness: the port accepts connections.
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), 5*time.Second)
	if err != nil {
		t.Fatalf("liveness probe: %v", err)
	}
	conn.Close()
	// The REST API wants the Secret's token.
	if code, _ := get(t, base+"/connectors", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /connectors without the token = %d; want 401", code)
	}
	if code, body := get(t, base+"/connectors", env["PIPECTL_HTTP_TOKEN"]); code != http.StatusOK {
		t.Errorf("GET /connectors with the token = %d %s; want 200", code, body)
	}

	// SIGTERM, as the kubelet sends it: a clean stop, well inside the
	// grace period.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the worker's stop failed: %v\n%s", err, stderr.String())
		}
	case <-time.After(time.Duration(grace) * time.Second):
		t.Fatalf("the worker did not stop within terminationGracePeriodSeconds (%ds)\n%s", grace, stderr.String())
	}
	if strings.Contains(stderr.String(), env["PIPECTL_KAFKA_PASSWORD"]) {
		t.Error("the worker's log holds the Kafka password")
	}
}

// TestDockerfile checks deploy/Dockerfile against the binary: the version
// variable its -ldflags set exists, its default command is a worker that
// listens on the port it exposes, and it runs as a non-root user.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../../deploy/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	if !strings.Contains(df, "-X github.com/pipectl/pipectl/cmd/pipectl/internal/cli.Version=") {
		t.Error("the Dockerfile does not set cli.Version")
	}
	_ = cli.Version // the variable it sets
	if !regexp.MustCompile(`(?m)^USER 65532:65532$`).MatchString(df) || !strings.Contains(df, ":nonroot") {
		t.Error("the image must run as the distroless nonroot user")
	}
	if !strings.Contains(df, "CGO_ENABLED=0") {
		t.Error("the binary must be static (CGO_ENABLED=0) for distroless/static")
	}
	m := regexp.MustCompile(`(?m)^CMD \["worker", "-http", "0\.0\.0\.0:(\d+)"\]$`).FindStringSubmatch(df)
	if m == nil || !regexp.MustCompile(`(?m)^EXPOSE `+m[1]+`$`).MatchString(df) {
		t.Error("the default command must be a worker listening on all addresses, on the port the image exposes")
	}
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body))
}
