"""A device written the way Azure's published IoT Hub MQTT sample writes it.

Azure's "Communicate with an IoT hub using the MQTT protocol" page
(learn.microsoft.com/azure/iot-hub/iot-hub-mqtt-support, "Using the MQTT
protocol directly (as a device)") connects with paho-mqtt: client id = device
id, MQTT 3.1.1, username "{hub}/{device id}/?api-version=...", a SAS token as
password, TLS with a CA file; it subscribes to
devices/{id}/messages/devicebound/# and publishes to
devices/{id}/messages/events/. The SAS token is generated as Azure's
"Control access to IoT Hub with SAS" page does in Python
(generate_sas_token). Nothing here is shared with fleetbench's Go code.

Run by hub/interop_test.go with /usr/bin/python3 and Debian's
python3-paho-mqtt. Settings come from the environment:
  HUB_HOST     IoT hub host name (username and token)
  HUB_PORT     TLS port on 127.0.0.1
  CA_FILE      the hub's CA certificate
  DEVICE_ID    the device id
  DEVICE_KEY   the device key, base64
  API_VERSION  the username's api-version; empty: the username is
               "{hub}/{device id}", as Azure's 2017 Python sample sent it
Exit 0 once the PUBACK of the QoS 1 publish arrived; 2 when the hub refused
the CONNECT; 3 when it refused the subscription; 4 on a time-out.
"""

import os
import ssl
import sys
import threading
from base64 import b64decode, b64encode
from hashlib import sha256
from hmac import HMAC
from time import time
from urllib import parse

import paho.mqtt.client as mqtt


def generate_sas_token(uri, key, policy_name, expiry=3600):
    ttl = time() + expiry
    sign_key = "%s\n%d" % ((parse.quote_plus(uri)), int(ttl))
    signature = b64encode(HMAC(b64decode(key), sign_key.encode("utf-8"), sha256).digest())
    rawtoken = {"sr": uri, "sig": signature, "se": str(int(ttl))}
    if policy_name is not None:
        rawtoken["skn"] = policy_name
    return "SharedAccessSignature " + parse.urlencode(rawtoken)


iot_hub = os.environ["HUB_HOST"]
port = int(os.environ["HUB_PORT"])
path_to_root_cert = os.environ["CA_FILE"]
device_id = os.environ["DEVICE_ID"]
device_key = os.environ["DEVICE_KEY"]
api_version = os.environ.get("API_VERSION", "")

sas_token = generate_sas_token(iot_hub + "/devices/" + device_id, device_key, None)
username = iot_hub + "/" + device_id
if api_version:
    username += "/?api-version=" + api_version

connected = threading.Event()
subscribed = threading.Event()
result = {}


def on_connect(client, userdata, flags, rc):
    print("Device connected with result code: " + str(rc), flush=True)
    result["connack"] = rc
    connected.set()


def on_subscribe(client, userdata, mid, granted_qos):
    print("Device subscribed, granted QoS: " + str(granted_qos), flush=True)
    result["granted"] = granted_qos
    subscribed.set()


def on_publish(client, userdata, mid):
    print("Device sent message, PUBACK for mid " + str(mid), flush=True)


# paho-mqtt 2 requires the callback API version first; Debian 12 ships 1.6.
if hasattr(mqtt, "CallbackAPIVersion"):
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION1, client_id=device_id, protocol=mqtt.MQTTv311)
else:
    client = mqtt.Client(client_id=device_id, protocol=mqtt.MQTTv311)
client.on_connect = on_connect
client.on_subscribe = on_subscribe
client.on_publish = on_publish

client.username_pw_set(username=username, password=sas_token)
client.tls_set(ca_certs=path_to_root_cert, certfile=None, keyfile=None,
               cert_reqs=ssl.CERT_REQUIRED, tls_version=ssl.PROTOCOL_TLSv1_2, ciphers=None)
client.tls_insecure_set(False)

client.connect("127.0.0.1", port=port)
client.loop_start()
if not connected.wait(30):
    print("timed out waiting for CONNACK", flush=True)
    sys.exit(4)
if result["connack"] != 0:
    sys.exit(2)

client.subscribe("devices/" + device_id + "/messages/devicebound/#", qos=1)
if not subscribed.wait(30):
    print("timed out waiting for SUBACK", flush=True)
    sys.exit(4)
if 128 in result["granted"]:
    sys.exit(3)

info = client.publish("devices/" + device_id + "/messages/events/", '{"id":123}', qos=1)
info.wait_for_publish(30)
if not info.is_published():
    print("timed out waiting for PUBACK", flush=True)
    sys.exit(4)
print("PUBACK received", flush=True)
client.disconnect()
client.loop_stop()
