package scenario

// The keys each section of a scenario accepts. docs/scenario.md documents
// every one; a test checks that it does.
var (
	topKeys     = []string{"name", "target", "auth", "devices", "connect", "publish", "duration", "drain", "confirm", "thresholds", "abort_on_fail", "abort_delay", "churn", "storm", "search"}
	targetKeys  = []string{"kind", "host", "port", "endpoints", "tls", "ack_delay", "tier", "units", "sends_per_second"}
	tlsKeys     = []string{"ca_file", "server_name", "insecure_skip_verify", "cert_file", "key_file", "session_resumption", "key_exchange"}
	authKeys    = []string{"type", "key_env", "key_file", "keys_file", "key_kind", "hub_host", "policy", "token_ttl", "api_version", "client_id", "username", "product_key", "sign_method", "secure_mode"}
	devicesKeys = []string{"count", "id", "first_index"}
	connectKeys = []string{"rate", "max_in_flight", "timeout", "keep_alive", "clean_session", "reconnect", "source_addresses"}
	publishKeys = []string{"qos", "max_in_flight", "topic", "properties", "start_rate", "stages", "payload", "late_after", "max_lateness", "pacing"}
	stageKeys   = []string{"duration", "rate", "interval", "pause"}
	payloadKeys = []string{"size", "template"}
	confirmKeys = []string{"type", "url", "ca_file", "server_name", "insecure_skip_verify", "sasl", "username", "password_env", "password_file", "sources", "credit", "client_id", "access_key_env", "access_secret_env", "instance_id", "consumer_group", "sign_method", "idle_timeout", "connection_string_env", "topic", "clients", "shared_group", "list_lost"}
)

type section struct {
	path string
	keys []string
}

func (s section) name() string {
	if s.path == "" {
		return "the top level"
	}
	return s.path
}

// sectionKeys lists every section, in document order, for "belongs under"
// hints.
var sectionKeys = []section{
	{"", topKeys},
	{"target", targetKeys},
	{"target.tls", tlsKeys},
	{"auth", authKeys},
	{"devices", devicesKeys},
	{"connect", connectKeys},
	{"connect.reconnect", reconnectKeys},
	{"churn", churnKeys},
	{"storm", stormKeys},
	{"publish", publishKeys},
	{"publish.stages[]", stageKeys},
	{"publish.payload", payloadKeys},
	{"confirm", confirmKeys},
	{"search", searchKeys},
	{"search.emergency", emergencyKeys},
}
