package confirm

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/Azure/go-amqp"

	"github.com/fleetbench/fleetbench/fleet/credential"
	"github.com/fleetbench/fleetbench/scenario"
)

// Aliyun's bounds on the idle time-out in the AMQP OPEN frame.
const (
	aliyunIdleMin     = 30 * time.Second
	aliyunIdleMax     = 300 * time.Second
	aliyunIdleDefault = 60 * time.Second
	// aliyunDedupe is how many recent messageIds the source remembers.
	aliyunDedupe = 1 << 17
)

// newAliyun builds the Alibaba Cloud IoT server-side subscription source:
// go-amqp over TLS with aksign credentials (credential.AliyunAMQP) signed
// afresh on every connect, one receiver link (Aliyun allows one per
// connection and ignores its address), deduplication on the messageId application property, and the
// generateTime property as the hub's enqueue time.
func newAliyun(c *scenario.Confirm, d Deps) (Source, error) {
	u, err := parseURL(c.URL, "amqps")
	if err != nil {
		return nil, err
	}
	var errs []error
	if c.ClientID == "" {
		errs = append(errs, errors.New("confirm: aliyun needs confirm.client_id"))
	}
	if c.ConsumerGroup == "" {
		errs = append(errs, errors.New("confirm: aliyun needs confirm.consumer_group (the consumer group id from the IoT console)"))
	}
	accessKey, err := lookupSecret(d, c.AccessKeyEnv, "", "confirm.access_key_env")
	errs = append(errs, err)
	accessSecret, err := lookupSecret(d, c.AccessSecretEnv, "", "confirm.access_secret_env")
	errs = append(errs, err)
	if c.AccessKeyEnv == "" || c.AccessSecretEnv == "" {
		errs = append(errs, errors.New("confirm: aliyun needs access_key_env and access_secret_env (names of environment variables holding the AccessKey pair)"))
	}
	errs = append(errs, credential.CheckAliyunAMQPSignMethod(c.SignMethod))
	idle := c.IdleTimeout
	if idle == 0 {
		idle = aliyunIdleDefault
	}
	if idle < aliyunIdleMin || idle > aliyunIdleMax {
		errs = append(errs, fmt.Errorf("confirm: aliyun idle_timeout %v out of range (Aliyun accepts 30s to 300s)", idle))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	tlsConf, err := tlsConfig(c, d, u.Hostname())
	if err != nil {
		return nil, err
	}
	source := "/fleetbench" // ignored by Aliyun
	if len(c.Sources) > 0 {
		source = c.Sources[0]
	}
	credit := int32(c.Credit)
	if credit <= 0 {
		credit = DefaultCredit
	}
	host := u.Host
	if u.Port() == "" {
		host += ":5671"
	}
	a := &amqpConsumer{
		name:    "aliyun consumer for " + u.Hostname(),
		sources: []string{source},
		credit:  credit,
		ready:   newReady(),
	}
	auth := credential.AliyunAMQPAuth{
		ClientID: c.ClientID, AccessKey: accessKey, AccessSecret: credential.Secret(accessSecret),
		InstanceID: c.InstanceID, ConsumerGroup: c.ConsumerGroup, SignMethod: c.SignMethod,
	}
	a.dial = func(ctx context.Context) (*amqp.Conn, error) {
		user, password, err := credential.AliyunAMQP(auth, d.Now().UnixMilli())
		if err != nil {
			return nil, err
		}
		return amqp.Dial(ctx, "amqps://"+host, &amqp.ConnOptions{
			ContainerID: c.ClientID,
			HostName:    u.Hostname(),
			IdleTimeout: idle,
			TLSConfig:   tlsConf,
			SASLType:    amqp.SASLTypePlain(user, password.Reveal()),
		})
	}
	var mu sync.Mutex // one receiver, but keep the dedupe safe regardless
	seen := newDedupe(aliyunDedupe)
	a.accept = func(m *amqp.Message) ([]byte, time.Time, bool) {
		payload, _, _ := amqpPayload(m)
		meta := aliyunMetaOf(m)
		if meta.messageID != "" {
			mu.Lock()
			dup := seen.seen(meta.messageID)
			mu.Unlock()
			if dup {
				a.stats.dedup.Add(1)
				return nil, time.Time{}, false
			}
		}
		return payload, meta.generated, true
	}
	return a, nil
}

// aliyunMeta are the application properties Aliyun sets on every message
// that fleetbench uses. The device is not taken from the topic property
// (/{productKey}/{deviceName}/...): the stamp in the payload names it, and
// a message without a stamp (a status or lifecycle event) is foreign.
type aliyunMeta struct {
	messageID string
	generated time.Time // when the platform generated the message
}

func aliyunMetaOf(m *amqp.Message) aliyunMeta {
	var meta aliyunMeta
	p := m.ApplicationProperties
	meta.messageID = propString(p["messageId"])
	switch v := p["generateTime"].(type) {
	case int64:
		meta.generated = time.UnixMilli(v)
	case uint64:
		meta.generated = time.UnixMilli(int64(v))
	case int32:
		meta.generated = time.UnixMilli(int64(v))
	case string:
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
			meta.generated = time.UnixMilli(ms)
		}
	}
	return meta
}

func propString(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case []byte:
		return string(s)
	case int64:
		return strconv.FormatInt(s, 10)
	case uint64:
		return strconv.FormatUint(s, 10)
	}
	return ""
}
