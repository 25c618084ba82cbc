package s3

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
)

func i64(v int64) *int64 { return &v }

// storeAttrs are the attributes of the store, common to the sink and the
// source.
var storeAttrs = []configschema.Attribute{
	{Name: "endpoint", Type: configschema.String, Required: true, NonEmpty: true, Description: "URL of the S3-compatible store: http://HOST:PORT or https://HOST[:PORT] (\"https://s3.eu-west-1.amazonaws.com\", \"http://127.0.0.1:7070\")."},
	{Name: "bucket", Type: configschema.String, Required: true, NonEmpty: true, Description: "Bucket of the objects; it must exist (a missing bucket fails the task with a clear status)."},
	{Name: "region", Type: configschema.String, Default: "us-east-1", Description: "Region the requests are signed for."},
	{Name: "access_key_id", Type: configschema.String, Sensitive: true, Description: "Access key id; when unset, AWS_ACCESS_KEY_ID (or AWS_ACCESS_KEY) of the worker's environment."},
	{Name: "secret_access_key", Type: configschema.String, Sensitive: true, Description: "Secret access key; when unset, AWS_SECRET_ACCESS_KEY (or AWS_SECRET_KEY) of the worker's environment."},
	{Name: "prefix", Type: configschema.String, Description: "Key prefix of every object, without a trailing slash (\"archive/orders\"); empty for the bucket's root."},
	{Name: "format", Type: configschema.String, Default: "parquet", Enum: []string{"parquet", "jsonl", "raw"}, Description: "Object format. parquet: one row per record, columns topic, partition, offset, timestamp, key, headers and value (typed from the record schema or inferred per object). jsonl: one JSON object per line with the same fields. raw: each value's bytes and a newline, nothing else (a restore gets values only)."},
}

// pathVars are the variables of the sink's path expression.
var pathVars = []configschema.ExprVar{
	{Name: "topic", Type: "string", Description: "The topic the record was read from."},
	{Name: "partition", Type: "int", Description: "The partition the record was read from."},
	{Name: "offset", Type: "int", Description: "The record's offset."},
	{Name: "timestamp", Type: "timestamp", Description: "The record's timestamp."},
	{Name: "year", Type: "string", Description: "The record timestamp's year, UTC, four digits (\"2026\")."},
	{Name: "month", Type: "string", Description: "Its month, two digits (\"01\"–\"12\")."},
	{Name: "day", Type: "string", Description: "Its day of the month, two digits."},
	{Name: "hour", Type: "string", Description: "Its hour, two digits (\"00\"–\"23\")."},
	{Name: "key", Type: "dyn", Description: "The record's key."},
	{Name: "value", Type: "dyn", Description: "The record's value."},
	{Name: "headers", Type: "dyn", Description: "The record's headers, a map of strings (the last value of a repeated header)."},
}

// SinkSchema is the configuration of sink "s3".
var SinkSchema = configschema.Schema{
	Kind:        configschema.Sink,
	Type:        "s3",
	Description: "Writes records to objects of an S3-compatible store (AWS S3, MinIO, Ceph, versitygw …) as Parquet, JSON lines or raw values, named PREFIX/PATH/TOPIC+PARTITION+START_OFFSET.EXT as Confluent's S3 sink names them. Each object is uploaded whole; offsets are committed only once the objects holding their records are in the bucket, and an object written again after a crash or rebalance has the same name and content: the bucket holds every record once.",
	Attributes: append(append([]configschema.Attribute{}, storeAttrs...),
		configschema.Attribute{Name: "path", Type: configschema.Expression, ExprVars: pathVars, Description: "CEL expression over the record giving the directory of its object under prefix (\"'dt=' + year + '-' + month + '-' + day + '/hour=' + hour\" partitions by hour as Confluent's TimeBasedPartitioner; \"'country=' + string(value.country)\" by a field). By default `topic`. It must give the same path for the same record every time: it is what makes a rewritten object equal the first."},
		configschema.Attribute{Name: "compression", Type: configschema.String, Default: "none", Enum: []string{"none", "gzip", "zstd", "snappy"}, Description: "parquet: the column codec (snappy, gzip or zstd; none). jsonl and raw: the whole object, gzip (.gz) or zstd (.zst); snappy is for parquet only."},
		configschema.Attribute{Name: "flush_records", Type: configschema.Int, Default: int64(10000), Min: i64(1), Max: i64(100_000_000), Description: "An object is uploaded when it holds this many records."},
		configschema.Attribute{Name: "flush_bytes", Type: configschema.Int, Default: int64(64 << 20), Min: i64(1024), Max: i64(5 << 30), Description: "An object is uploaded when its records reach this many bytes (keys, values and headers before encoding and compression)."},
		configschema.Attribute{Name: "upload_timeout", Type: configschema.Duration, Default: "5m", MinDuration: "1s", Description: "How long one attempt to upload an object may take; a store that does not answer in time is tried again (5 attempts), then the task fails, rather than holding commits and rebalances."},
		configschema.Attribute{Name: "rotate_interval", Type: configschema.Duration, Description: "An object is uploaded before a record whose timestamp is this long or more after the object's first record (record time, so that the same records make the same objects; Confluent's rotate.interval.ms). Unset: no rotation by time."},
	),
	Check: checkSink,
}

// SinkConfig is the configuration of sink "s3", as SinkSchema declares it.
type SinkConfig struct {
	Endpoint        string         `pipectl:"endpoint"`
	Bucket          string         `pipectl:"bucket"`
	Region          string         `pipectl:"region"`
	AccessKeyID     string         `pipectl:"access_key_id"`
	SecretAccessKey string         `pipectl:"secret_access_key"`
	Prefix          string         `pipectl:"prefix"`
	Format          string         `pipectl:"format"`
	Path            connector.Expr `pipectl:"path"`
	Compression     string         `pipectl:"compression"`
	FlushRecords    int            `pipectl:"flush_records"`
	FlushBytes      int64          `pipectl:"flush_bytes"`
	RotateInterval  time.Duration  `pipectl:"rotate_interval"`
	UploadTimeout   time.Duration  `pipectl:"upload_timeout"`
}

// topicVars are the variables of the source's topic expression.
var topicVars = []configschema.ExprVar{
	{Name: "topic", Type: "string", Description: "The topic the records were read from by the sink (the object name's)."},
	{Name: "partition", Type: "int", Description: "Their partition (the object name's)."},
}

// SourceSchema is the configuration of source "s3".
var SourceSchema = configschema.Schema{
	Kind:        configschema.Source,
	Type:        "s3",
	Description: "Reads back the objects sink \"s3\" wrote (parquet, jsonl or raw) under prefix, in offset order per original topic partition, with their keys, values, headers and timestamps, into the same partition of a topic given by an expression. Its position (the next original offset of each partition) is kept in the offsets topic; new objects are found by listing the bucket every poll_interval.",
	Attributes: append(append([]configschema.Attribute{}, storeAttrs...),
		configschema.Attribute{Name: "topic", Type: configschema.Expression, ExprVars: topicVars, Default: "topic", Description: "CEL expression giving the topic a partition's records are written to; by default the topic they came from. A constant is a CEL string literal: \"'orders.restored'\"."},
		configschema.Attribute{Name: "poll_interval", Type: configschema.Duration, Default: "10s", Description: "How often the bucket is listed for new objects once everything listed is read."},
		configschema.Attribute{Name: "max_object_bytes", Type: configschema.Int, Default: int64(256 << 20), Min: i64(1024), Max: i64(6 << 30), Description: "The largest object the source reads, as stored and once decompressed (objects are read whole); a larger one fails the task with its name, never truncated."},
	),
}

// SourceConfig is the configuration of source "s3", as SourceSchema
// declares it.
type SourceConfig struct {
	Endpoint        string         `pipectl:"endpoint"`
	Bucket          string         `pipectl:"bucket"`
	Region          string         `pipectl:"region"`
	AccessKeyID     string         `pipectl:"access_key_id"`
	SecretAccessKey string         `pipectl:"secret_access_key"`
	Prefix          string         `pipectl:"prefix"`
	Format          string         `pipectl:"format"`
	Topic           connector.Expr `pipectl:"topic"`
	PollInterval    time.Duration  `pipectl:"poll_interval"`
	MaxObjectBytes  int64          `pipectl:"max_object_bytes"`
}

// Sink returns the plugin registration of sink "s3".
func Sink() connector.Plugin {
	return connector.Plugin{Schema: SinkSchema, Config: (*SinkConfig)(nil), NewSink: func() connector.Sink { return new(sink) }}
}

// Source returns the plugin registration of source "s3".
func Source() connector.Plugin {
	return connector.Plugin{Schema: SourceSchema, Config: (*SourceConfig)(nil), NewSource: func() connector.Source { return new(source) }}
}

// checkSink refuses what the attributes' own rules cannot: an endpoint
// that is not a URL and snappy for a format other than parquet.
func checkSink(values map[string]any) []*configschema.Error {
	var errs []*configschema.Error
	if e, ok := values["endpoint"].(string); ok && e != "" {
		if _, _, err := parseEndpoint(e); err != nil {
			errs = append(errs, &configschema.Error{Rule: configschema.RuleCheck, Attribute: "endpoint", Summary: "Invalid endpoint", Detail: err.Error()})
		}
	}
	f, _ := values["format"].(string)
	c, _ := values["compression"].(string)
	if pe, ok := values["path"].(string); ok && f == "raw" && rawPathVars.MatchString(pe) {
		errs = append(errs, &configschema.Error{Rule: configschema.RuleCheck, Attribute: "path", Summary: "Path not available for raw objects", Detail: rawPathDetail})
	}
	if c == "snappy" && f != "" && f != "parquet" {
		errs = append(errs, &configschema.Error{Rule: configschema.RuleCheck, Attribute: "compression", Summary: "Compression not available for this format", Detail: fmt.Sprintf("snappy compresses Parquet columns; a %s object is compressed whole with gzip or zstd.", f)})
	}
	return errs
}

// rawPathVars are the variables a raw object's path may not read: raw
// objects carry no offsets (a record's position is its object's start
// plus its line), so a partition's raw objects must not interleave, and a
// path by key, value, headers or offset spreads a partition's records over
// objects that do.
var rawPathVars = regexp.MustCompile(`\b(key|value|headers|offset)\b`)

const rawPathDetail = "Raw objects carry no offsets, so the records of a partition must not be spread over several paths by key, value, headers or offset: use format jsonl or parquet, or a path by topic, partition or time."

// parseEndpoint splits an endpoint URL into the host[:port] minio-go
// wants and whether it uses TLS.
func parseEndpoint(endpoint string) (host string, secure bool, err error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", false, errors.New("the endpoint is not a URL such as http://127.0.0.1:7070 or https://s3.eu-west-1.amazonaws.com")
	}
	if u.User != nil {
		return "", false, errors.New("the endpoint has a user or password in it: give the store's URL only, and the credentials in access_key_id and secret_access_key")
	}
	if u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false, fmt.Errorf("the endpoint %q is not a URL such as http://127.0.0.1:7070 or https://s3.eu-west-1.amazonaws.com", endpoint)
	}
	if u.Path != "" && u.Path != "/" {
		return "", false, fmt.Errorf("the endpoint %q has a path: give the store's URL only, and the bucket in bucket", endpoint)
	}
	return u.Host, u.Scheme == "https", nil
}

// store is a connection to the bucket.
type store struct {
	c      *minio.Client
	bucket string
}

// openStore connects and checks that the bucket exists and that the
// credentials are accepted. Its errors name the endpoint and bucket,
// never a credential.
func openStore(ctx context.Context, endpoint, bucket, region, id, secret string) (*store, error) {
	host, secure, err := parseEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	var creds *credentials.Credentials
	if id != "" || secret != "" {
		creds = credentials.NewStaticV4(id, secret, "")
	} else {
		creds = credentials.NewEnvAWS()
	}
	c, err := minio.New(host, &minio.Options{Creds: creds, Secure: secure, Region: region})
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", endpoint, err)
	}
	s := &store{c: c, bucket: bucket}
	ok, err := c.BucketExists(ctx, bucket)
	if err != nil {
		return nil, s.explain(err, "checking the bucket")
	}
	if !ok {
		return nil, fmt.Errorf("bucket %q does not exist at %s: create it first", bucket, endpoint)
	}
	return s, nil
}

// explain turns an S3 error into a message that says what to do; it
// never quotes credentials. Errors of the network and 5xx answers are
// retriable.
func (s *store) explain(err error, doing string) error {
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken":
		return fmt.Errorf("%s %q at %s: the store refused the credentials (%s): check access_key_id and secret_access_key (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", doing, s.bucket, s.c.EndpointURL().Host, resp.Code)
	case "NoSuchBucket":
		return fmt.Errorf("%s: bucket %q does not exist at %s: create it first", doing, s.bucket, s.c.EndpointURL().Host)
	}
	if resp.StatusCode >= 500 || resp.Code == "" {
		return connector.Retriable(fmt.Errorf("%s %q at %s: %s", doing, s.bucket, s.c.EndpointURL().Host, scrub(err)))
	}
	return fmt.Errorf("%s %q at %s: %s (%s)", doing, s.bucket, s.c.EndpointURL().Host, resp.Message, resp.Code)
}

// scrub returns an error's text; the store's errors carry no credential,
// and S3's signed requests are never part of them.
func scrub(err error) string { return strings.TrimSpace(err.Error()) }
