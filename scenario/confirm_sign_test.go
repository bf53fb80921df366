package scenario

import "testing"

// confirm.sign_method takes the three methods Alibaba's own AMQP
// subscription sample lists for the aksign password.
func TestConfirmSignMethodsOfTheAliyunSample(t *testing.T) {
	for _, m := range []string{"hmacmd5", "hmacsha1", "hmacsha256"} {
		s := mustParse(t, `target: {kind: mqtt, host: broker.example}
auth: {type: aliyun, product_key: pk, key_file: secret.txt}
`+base+`confirm:
  type: aliyun
  url: amqps://x.iot-amqp.cn-shanghai.aliyuncs.com:5671
  access_key_env: AK
  access_secret_env: AS
  consumer_group: cg
  sign_method: `+m+`
`)
		if s.Confirm.SignMethod != m {
			t.Errorf("sign_method %s read as %q", m, s.Confirm.SignMethod)
		}
	}
}
