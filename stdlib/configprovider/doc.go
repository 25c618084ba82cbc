// Package configprovider holds pipectl's built-in config providers
// (connector.ConfigProvider), which resolve secret("NAME", PATH, KEY)
// references on the worker: directory, Kafka's DirectoryConfigProvider,
// one file per key as Kubernetes mounts a Secret. It sees only the plugin
// SDK (runtime/connector) and the standard library.
package configprovider
