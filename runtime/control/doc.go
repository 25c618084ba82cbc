// Package control owns the fleet's control plane in Kafka: the record
// formats of the compacted topics <fleet>.configs (state: one record per
// resource and one commit record per apply, written in one transaction),
// <fleet>.offsets (source offsets) and <fleet>.status (task status and
// operational pause), the resolved specifications of topics and pipelines
// that state holds, secrets in state (references and AES-256-GCM), and the
// fenced commit that plan/apply and pipectl dev write through.
//
// It imports lang (for the configuration it turns into specs),
// runtime/kafka and runtime/connector; never planner.
package control
