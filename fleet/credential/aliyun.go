package credential

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Alibaba Cloud sign methods.
const (
	SignHMACSHA256 = "hmacsha256"
	SignHMACSHA1   = "hmacsha1"
	SignHMACMD5    = "hmacmd5"
)

// Alibaba Cloud MQTT secure modes.
const (
	SecureModeTLS = 2 // TLS on port 8883
	SecureModeTCP = 3 // plain TCP
)

// AliyunDevice identifies an Alibaba Cloud IoT Platform device for the
// one-device-one-secret MQTT signature.
type AliyunDevice struct {
	ProductKey   string
	DeviceName   string
	ClientID     string // any id of the client (device name, MAC, serial); empty: DeviceName
	DeviceSecret Secret
	SignMethod   string // SignHMACSHA256 (default when empty), SignHMACSHA1 or SignHMACMD5
	SecureMode   int    // SecureModeTLS or SecureModeTCP
}

// AliyunMQTT returns the MQTT CONNECT credentials of an Alibaba Cloud device
// at timestampMs (Unix epoch milliseconds):
//
//	clientID = "{clientId}|securemode={m},signmethod={s},timestamp={ms}|"
//	username = "{deviceName}&{productKey}"
//	password = hex(HMAC(deviceSecret, "clientId{c}deviceName{d}productKey{p}timestamp{ms}"))
//
// The hex is lower-case (the platform compares it case-insensitively; the
// official example prints it upper-case). Safe for concurrent use.
func AliyunMQTT(p AliyunDevice, timestampMs int64) (clientID, username string, password Secret, err error) {
	if p.ClientID == "" {
		p.ClientID = p.DeviceName
	}
	k, err := aliyunHash(p.SignMethod)
	if err != nil {
		return "", "", "", err
	}
	if p.SignMethod == "" {
		p.SignMethod = SignHMACSHA256
	}
	if err := checkAliyunDevice(p); err != nil {
		return "", "", "", err
	}
	s := getScratch()
	defer putScratch(s)
	clientID = string(appendAliyunClientID(s.out[:0], p.ClientID, p.SecureMode, p.SignMethod, timestampMs))
	username = p.DeviceName + "&" + p.ProductKey
	password = Secret(appendAliyunPassword(s.out[:0], s, k, p.DeviceSecret.Reveal(), p.ClientID, p.DeviceName, p.ProductKey, timestampMs))
	return clientID, username, password, nil
}

func checkAliyunDevice(p AliyunDevice) error {
	var errs []error
	if p.ProductKey == "" {
		errs = append(errs, errors.New("aliyun: product key is empty (set auth.product_key)"))
	}
	if p.DeviceName == "" {
		errs = append(errs, errors.New("aliyun: device name is empty"))
	}
	if strings.ContainsAny(p.ClientID, "|,") {
		errs = append(errs, fmt.Errorf("aliyun: client id %q contains '|' or ',' (use letters, digits, '-', '_' or '.')", p.ClientID))
	}
	if p.DeviceSecret == "" {
		errs = append(errs, errors.New("aliyun: device secret is empty (give the device secret through auth.key_env, key_file or keys_file)"))
	}
	if p.SecureMode != SecureModeTLS && p.SecureMode != SecureModeTCP {
		errs = append(errs, fmt.Errorf("aliyun: secure mode %d is not supported (use 2 for TLS or 3 for TCP)", p.SecureMode))
	}
	return errors.Join(errs...)
}

// aliyunHash maps an Alibaba Cloud sign method to its hash. The device MQTT
// signature and the AMQP server-side subscription accept the same three.
func aliyunHash(method string) (hashKind, error) {
	switch method {
	case SignHMACSHA256, "":
		return hashSHA256, nil
	case SignHMACSHA1:
		return hashSHA1, nil
	case SignHMACMD5:
		return hashMD5, nil
	}
	return 0, fmt.Errorf("aliyun: sign method %q is not supported (use hmacsha256, hmacsha1 or hmacmd5)", method)
}

func appendAliyunClientID(dst []byte, clientID string, secureMode int, signMethod string, ts int64) []byte {
	dst = append(dst, clientID...)
	dst = append(dst, "|securemode="...)
	dst = strconv.AppendInt(dst, int64(secureMode), 10)
	dst = append(dst, ",signmethod="...)
	dst = append(dst, signMethod...)
	dst = append(dst, ",timestamp="...)
	dst = strconv.AppendInt(dst, ts, 10)
	return append(dst, '|')
}

// appendAliyunPassword appends the lower-case hex device signature. It uses
// s.msg; dst may be s.out.
func appendAliyunPassword(dst []byte, s *scratch, k hashKind, secret, clientID, deviceName, productKey string, ts int64) []byte {
	msg := append(s.msg[:0], "clientId"...)
	msg = append(msg, clientID...)
	msg = append(msg, "deviceName"...)
	msg = append(msg, deviceName...)
	msg = append(msg, "productKey"...)
	msg = append(msg, productKey...)
	msg = append(msg, "timestamp"...)
	msg = strconv.AppendInt(msg, ts, 10)
	s.msg = msg
	var mac [32]byte
	m := appendHMAC(mac[:0], k, secret, msg)
	return hex.AppendEncode(dst, m)
}
