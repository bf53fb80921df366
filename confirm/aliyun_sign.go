package confirm

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"strconv"
)

// AliyunCredentials are the SASL PLAIN username and password of Alibaba
// Cloud IoT's AMQP server-side subscription (authMode aksign). String never
// shows the password.
type AliyunCredentials struct {
	Username string
	Password string
}

// String returns the username only.
func (c AliyunCredentials) String() string { return c.Username + " (password hidden)" }

// AliyunSign builds the credentials for clientID at timestampMs (epoch
// milliseconds: several public demos wrongly use the sub-second part):
//
//	username = {clientId}|authMode=aksign,signMethod={m},timestamp={ms},authId={accessKey},iotInstanceId={id},consumerGroupId={cg}|
//	password = base64(HMAC-{SHA1|SHA256}(accessSecret, "authId={accessKey}&timestamp={ms}"))
//
// signMethod is hmacsha1 (the default when empty) or hmacsha256.
func AliyunSign(clientID, accessKey, accessSecret, instanceID, consumerGroup, signMethod string, timestampMs int64) (AliyunCredentials, error) {
	var h func() hash.Hash
	switch signMethod {
	case "", "hmacsha1":
		signMethod, h = "hmacsha1", sha1.New
	case "hmacsha256":
		h = sha256.New
	default:
		return AliyunCredentials{}, fmt.Errorf("confirm: aliyun sign_method %q not supported (use hmacsha1 or hmacsha256)", signMethod)
	}
	ts := strconv.FormatInt(timestampMs, 10)
	mac := hmac.New(h, []byte(accessSecret))
	mac.Write([]byte("authId=" + accessKey + "&timestamp=" + ts))
	return AliyunCredentials{
		Username: clientID + "|authMode=aksign,signMethod=" + signMethod + ",timestamp=" + ts +
			",authId=" + accessKey + ",iotInstanceId=" + instanceID + ",consumerGroupId=" + consumerGroup + "|",
		Password: base64.StdEncoding.EncodeToString(mac.Sum(nil)),
	}, nil
}
