package credential

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
)

// AliyunAMQPAuth identifies an Alibaba Cloud IoT Platform server-side
// (AMQP 1.0) subscription client.
type AliyunAMQPAuth struct {
	ClientID      string // any id of this consumer, e.g. host name
	AccessKey     string // AccessKey id (not secret)
	AccessSecret  Secret // AccessKey secret
	InstanceID    string // IoT instance id; may be empty for old public instances
	ConsumerGroup string // consumer group id
	SignMethod    string // SignHMACSHA1 (default when empty), SignHMACSHA256 or SignHMACMD5
}

// CheckAliyunAMQPSignMethod reports whether method is one the AMQP
// server-side subscription accepts: hmacsha1, hmacsha256, hmacmd5 or empty
// (hmacsha1), the list in Alibaba's own subscription samples.
func CheckAliyunAMQPSignMethod(method string) error {
	if _, err := aliyunHash(method); err != nil {
		return fmt.Errorf("aliyun amqp: sign method %q is not supported (set confirm.sign_method to hmacsha1, hmacsha256 or hmacmd5)", method)
	}
	return nil
}

// AliyunAMQP returns the SASL PLAIN username and password of the Alibaba
// Cloud AMQP server-side subscription at timestampMs (Unix epoch
// milliseconds, not the sub-second part some demos use):
//
//	username = "{clientId}|authMode=aksign,signMethod={s},timestamp={ms},authId={accessKey},iotInstanceId={id},consumerGroupId={cg}|"
//	password = base64(HMAC(accessSecret, "authId={accessKey}&timestamp={ms}"))
//
// Safe for concurrent use.
func AliyunAMQP(p AliyunAMQPAuth, timestampMs int64) (username string, password Secret, err error) {
	if p.SignMethod == "" {
		p.SignMethod = SignHMACSHA1
	}
	k, err := aliyunHash(p.SignMethod)
	var errs []error
	if err != nil {
		errs = append(errs, CheckAliyunAMQPSignMethod(p.SignMethod))
	}
	if p.ClientID == "" {
		errs = append(errs, errors.New("aliyun amqp: client id is empty (set confirm.client_id)"))
	}
	if p.AccessKey == "" {
		errs = append(errs, errors.New("aliyun amqp: AccessKey id is empty (set the variable named by confirm.access_key_env)"))
	}
	if p.AccessSecret == "" {
		errs = append(errs, errors.New("aliyun amqp: AccessKey secret is empty (set the variable named by confirm.access_secret_env)"))
	}
	if p.ConsumerGroup == "" {
		errs = append(errs, errors.New("aliyun amqp: consumer group is empty (set confirm.consumer_group)"))
	}
	if err := errors.Join(errs...); err != nil {
		return "", "", err
	}
	ts := strconv.FormatInt(timestampMs, 10)
	username = p.ClientID + "|authMode=aksign,signMethod=" + p.SignMethod + ",timestamp=" + ts +
		",authId=" + p.AccessKey + ",iotInstanceId=" + p.InstanceID + ",consumerGroupId=" + p.ConsumerGroup + "|"
	s := getScratch()
	defer putScratch(s)
	var mac [32]byte
	m := appendHMAC(mac[:0], k, p.AccessSecret.Reveal(), "authId="+p.AccessKey+"&timestamp="+ts)
	return username, Secret(base64.StdEncoding.EncodeToString(m)), nil
}
