// Package planfile reads and writes saved plans (pipectl plan -out FILE):
// the one owner of the plan file format.
//
// A plan file is a JSON document:
//
//	{
//	  "format": "pipectl-plan",
//	  "format_version": 1,
//	  "pipectl_version": "v0.1.0",
//	  "created": "2026-11-30T10:00:00Z",
//	  "kafka": { "brokers": [...], "sasl": {...}, "tls": {...} },
//	  "plan": { "fleet": ..., "serial": 12, "config_hash": "sha256:...", "changes": [...], ... },
//	  "checksum": "sha256:..."
//	}
//
// plan is planner/plan's model as JSON: the state serial it was made
// against, the configuration's hash and every resolved change with the
// resources before and after. Sensitive values in it are only ever in the
// sealed form state keeps (an env:/file: reference, or AES-256-GCM
// ciphertext with an HMAC), never in clear. kafka records how the plan
// reached the cluster so that apply FILE reaches the same one; its SASL
// password is sealed the same way. checksum covers the rest of the file,
// so that a damaged or hand-edited plan is refused rather than applied.
//
// A reader refuses a file of a newer format_version than it knows.
// planfile imports planner/plan and runtime/control.
package planfile
