// Package plan is the plain-data model of a plan: what plan computed and
// apply carries out, what views show and planfile saves. It holds no
// behaviour beyond small accessors, as Terraform's plans package: the
// planner package computes a Plan, planfile reads and writes it, and the
// views of cmd/pipectl print it.
//
// Resources inside a plan are runtime/control's state records, with every
// sensitive value already sealed (a reference or AES-GCM ciphertext with an
// HMAC): a Plan never holds a secret in clear. Attribute values are plain
// JSON values with sensitive ones replaced by a marker.
//
// It imports runtime/control (for the resource records) and nothing else of
// the project.
package plan
