package scenario

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Confirm defaults.
const (
	DefaultCredit          = 1000
	DefaultConfirmClients  = 1
	DefaultListLost        = 20
	DefaultIdleTimeout     = 60 * time.Second
	DefaultConfirmTopic    = "devices/+/messages/events/#"
	DefaultSharedGroup     = "fleetbench"
	DefaultConsumerGroup   = "$Default" // azure-eventhubs
	DefaultAliyunClientID  = "fleetbench"
	DefaultConfirmClientID = "fleetbench-confirm" // mqtt subscriber; a suffix per client is the consumer's job
)

// confirmOnly says which confirm types each type-specific key applies to.
var confirmOnly = map[string][]string{
	"url":                   {ConfirmAMQP, ConfirmAliyun, ConfirmMQTT},
	"ca_file":               {ConfirmAMQP, ConfirmAliyun, ConfirmMQTT},
	"server_name":           {ConfirmAMQP, ConfirmAliyun, ConfirmMQTT},
	"insecure_skip_verify":  {ConfirmAMQP, ConfirmAliyun, ConfirmMQTT},
	"sasl":                  {ConfirmAMQP},
	"username":              {ConfirmAMQP, ConfirmMQTT},
	"password_env":          {ConfirmAMQP, ConfirmMQTT},
	"password_file":         {ConfirmAMQP, ConfirmMQTT},
	"sources":               {ConfirmAMQP},
	"credit":                {ConfirmAMQP, ConfirmAliyun},
	"client_id":             {ConfirmAliyun, ConfirmMQTT},
	"access_key_env":        {ConfirmAliyun},
	"access_secret_env":     {ConfirmAliyun},
	"instance_id":           {ConfirmAliyun},
	"consumer_group":        {ConfirmAliyun, ConfirmEventHubs},
	"sign_method":           {ConfirmAliyun},
	"idle_timeout":          {ConfirmAMQP, ConfirmAliyun},
	"connection_string_env": {ConfirmEventHubs},
	"topic":                 {ConfirmMQTT},
	"clients":               {ConfirmMQTT},
	"shared_group":          {ConfirmMQTT},
}

func (d *decoder) decodeConfirm(n *node, c *Confirm) {
	d.object(n, "confirm", confirmKeys, func(key string, v *node, p string) {
		switch key {
		case "type":
			c.Type, _ = d.enum(v, p, ConfirmAMQP, ConfirmAliyun, ConfirmEventHubs, ConfirmMQTT)
		case "url":
			c.URL, _ = d.nonEmpty(v, p)
		case "ca_file":
			c.CAFile, _ = d.filePath(v, p)
		case "server_name":
			c.ServerName, _ = d.host(v, p)
		case "insecure_skip_verify":
			c.InsecureSkipVerify, _ = d.boolean(v, p)
		case "sasl":
			c.SASL, _ = d.enum(v, p, "plain", "anonymous")
		case "username":
			c.Username, _ = d.nonEmpty(v, p)
		case "password_env":
			c.PasswordEnv, _ = d.env(v, p)
		case "password_file":
			c.PasswordFile, _ = d.filePath(v, p)
		case "sources":
			c.Sources = d.strList(v, p)
		case "credit":
			c.Credit, _ = d.integer(v, p, 1, 1_000_000)
		case "client_id":
			c.ClientID, _ = d.nonEmpty(v, p)
		case "access_key_env":
			c.AccessKeyEnv, _ = d.env(v, p)
		case "access_secret_env":
			c.AccessSecretEnv, _ = d.env(v, p)
		case "instance_id":
			c.InstanceID, _ = d.nonEmpty(v, p)
		case "consumer_group":
			c.ConsumerGroup, _ = d.nonEmpty(v, p)
		case "sign_method":
			c.SignMethod, _ = d.enum(v, p, "hmacsha1", "hmacsha256", "hmacmd5")
		case "idle_timeout":
			c.IdleTimeout, _ = d.duration(v, p, time.Second, time.Hour)
		case "connection_string_env":
			c.ConnectionStringEnv, _ = d.env(v, p)
		case "topic":
			c.Topic, _ = d.nonEmpty(v, p)
		case "clients":
			c.Clients, _ = d.integer(v, p, 1, 64)
		case "shared_group":
			c.SharedGroup, _ = d.nonEmpty(v, p)
		case "list_lost":
			c.ListLost, _ = d.integer(v, p, 0, 100_000)
		}
	})
}

// strList decodes a list of non-empty strings.
func (d *decoder) strList(n *node, path string) []string {
	if n.kind != kSeq {
		d.report(n.pos, path, "want a list, got "+n.describe(), "write e.g. [/amq/queue/fleet]")
		return nil
	}
	var out []string
	for i, item := range n.items {
		if s, ok := d.nonEmpty(item, fmt.Sprintf("%s[%d]", path, i)); ok {
			out = append(out, s)
		}
	}
	return out
}

// finishConfirm applies the confirm defaults and checks the type's
// required keys against the target and the payload.
func (d *decoder) finishConfirm(c *Confirm, t *Target) {
	if !d.given("confirm.type") {
		d.failKey("confirm.type", "a confirm section needs a type", "add confirm.type: mqtt, amqp, aliyun or azure-eventhubs")
		return
	}
	if !d.has("confirm.type") {
		return
	}
	for _, k := range confirmKeys {
		if types, ok := confirmOnly[k]; ok && d.given("confirm."+k) && !contains(types, c.Type) {
			d.failKey("confirm."+k, fmt.Sprintf("applies to confirm type %s, not %s", strings.Join(types, " or "), c.Type),
				"remove it, or change confirm.type")
		}
	}
	if d.given("confirm.password_env") && d.given("confirm.password_file") {
		d.failKey("confirm.password_file", "a second password source (also password_env)", "keep one of password_env or password_file")
	}
	require := func(key, what string) {
		if !d.given("confirm." + key) {
			d.failKey("confirm."+key, fmt.Sprintf("confirm type %s needs %s", c.Type, what), "add confirm."+key)
		}
	}
	if !d.has("confirm.list_lost") {
		c.ListLost = DefaultListLost
	}
	if t.Kind == TargetEmbedded && c.Type != ConfirmMQTT {
		d.fail("confirm.type", fmt.Sprintf("the embedded hub has no %s endpoint", c.Type),
			"use confirm.type: mqtt with the embedded hub, or point target at the broker whose endpoint this is")
	}
	switch c.Type {
	case ConfirmAMQP:
		require("url", "the AMQP server's url (amqp:// or amqps://)")
		require("sources", "at least one source address, e.g. /amq/queue/fleet")
		if d.has("confirm.sources") && len(c.Sources) == 0 {
			d.fail("confirm.sources", "is empty", "list at least one source address, e.g. [/amq/queue/fleet]")
		}
		d.checkURL(c, "amqp", "amqps")
		if !d.has("confirm.sasl") {
			c.SASL = "anonymous"
			if c.Username != "" {
				c.SASL = "plain"
			}
		}
		if c.SASL == "plain" && !d.given("confirm.username") {
			d.failKey("confirm.username", "SASL PLAIN needs a username", "add confirm.username (and password_env), or use sasl: anonymous")
		}
		if c.SASL == "anonymous" && (d.given("confirm.username") || d.given("confirm.password_env") || d.given("confirm.password_file")) {
			d.failKey("confirm.sasl", "SASL ANONYMOUS sends no username or password", "remove sasl to use plain, or remove the credentials")
		}
		d.defaultCredit(c)
		d.defaultIdle(c)
	case ConfirmAliyun:
		require("url", "the AMQP endpoint, e.g. amqps://UID.iot-amqp.REGION.aliyuncs.com:5671")
		require("access_key_env", "the environment variable holding the AccessKey id")
		require("access_secret_env", "the environment variable holding the AccessKey secret")
		require("consumer_group", "the consumer group id")
		d.checkURL(c, "amqps")
		if !d.has("confirm.sign_method") {
			c.SignMethod = "hmacsha1"
		}
		if !d.has("confirm.client_id") {
			c.ClientID = DefaultAliyunClientID
		}
		d.defaultCredit(c)
		d.defaultIdle(c)
		if c.IdleTimeout < 30*time.Second || c.IdleTimeout > 300*time.Second {
			d.fail("confirm.idle_timeout", fmt.Sprintf("Alibaba Cloud requires an idle time-out of 30s to 300s, not %v", c.IdleTimeout),
				"use a value from 30s to 5m")
		}
	case ConfirmEventHubs:
		require("connection_string_env", "the environment variable holding the Event Hub-compatible connection string")
		if !d.has("confirm.consumer_group") {
			c.ConsumerGroup = DefaultConsumerGroup
		}
	case ConfirmMQTT:
		if t.Kind == TargetEmbedded {
			if d.given("confirm.url") {
				d.failKey("confirm.url", "the embedded hub's address is chosen at run time", "remove confirm.url: the consumer connects to the embedded hub itself")
			}
		} else {
			require("url", "the broker's url (mqtt:// or mqtts://)")
			d.checkURL(c, "mqtt", "mqtts")
		}
		if !d.has("confirm.topic") {
			c.Topic = DefaultConfirmTopic
		}
		if !d.has("confirm.clients") {
			c.Clients = DefaultConfirmClients
		}
		if !d.has("confirm.shared_group") && c.Clients > 1 {
			c.SharedGroup = DefaultSharedGroup
		}
		if !d.has("confirm.client_id") {
			c.ClientID = DefaultConfirmClientID
		}
	}
}

func (d *decoder) defaultCredit(c *Confirm) {
	if !d.has("confirm.credit") {
		c.Credit = DefaultCredit
	}
}

func (d *decoder) defaultIdle(c *Confirm) {
	if !d.has("confirm.idle_timeout") {
		c.IdleTimeout = DefaultIdleTimeout
	}
}

// checkURL checks confirm.url's scheme and host, and that TLS settings
// come with a TLS scheme.
func (d *decoder) checkURL(c *Confirm, schemes ...string) {
	const p = "confirm.url"
	if !d.has(p) {
		return
	}
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		d.fail(p, "is not a URL with a host", fmt.Sprintf("write e.g. %s://127.0.0.1:5672", schemes[len(schemes)-1]))
		return
	}
	if u.User != nil {
		d.fail(p, "has credentials in it", "remove them from the URL; use confirm.username and password_env")
		return
	}
	if !contains(schemes, u.Scheme) {
		d.fail(p, fmt.Sprintf("scheme %q is not %s", u.Scheme, strings.Join(schemes, " or ")),
			fmt.Sprintf("start the URL with %s://", strings.Join(schemes, ":// or ")))
		return
	}
	if !strings.HasSuffix(u.Scheme, "s") {
		for _, k := range []string{"ca_file", "server_name", "insecure_skip_verify"} {
			if d.given("confirm." + k) {
				d.failKey("confirm."+k, "applies to TLS connections only, but the URL is "+u.Scheme+"://",
					"use "+u.Scheme+"s:// or remove confirm."+k)
			}
		}
	}
	if c.InsecureSkipVerify {
		d.warn("confirm.insecure_skip_verify", "the server's certificate is not verified")
	}
}
