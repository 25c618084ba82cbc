// Package restauth is pipectl's built-in REST extension
// (connector.RESTExtension): bearer tokens with roles, read from a file of
// hashed tokens that is reloaded when it changes, and an audit log line for
// every operation. It sees only the plugin SDK (runtime/connector) and the
// standard library.
package restauth
