package hub

import "strings"

// Topic rules of IoT Hub's MQTT device surface. All are allocation-free:
// devicePublishAllowed runs once per message.

// devicePublishAllowed reports whether device id may publish to topic:
// devices/{id}/messages/events/ followed by an optional property bag.
func devicePublishAllowed(id, topic string) bool {
	rest, ok := cutDevice(topic, id)
	return ok && strings.HasPrefix(rest, "/messages/events/")
}

// deviceReadAllowed reports whether device id may subscribe to filter, or
// receive a message on that topic: only cloud-to-device messages,
// devices/{id}/messages/devicebound/#.
func deviceReadAllowed(id, filter string) bool {
	rest, ok := cutDevice(filter, id)
	if !ok {
		return false
	}
	rest, ok = strings.CutPrefix(rest, "/messages/devicebound/")
	return ok && (rest == "#" || !strings.ContainsAny(rest, "+#"))
}

// serviceReadAllowed reports whether the service client may subscribe to
// filter, or receive a message on that topic: "#" or any filter of the form
// devices/{id or +}/messages/events/..., which covers every topic devices
// can publish to.
func serviceReadAllowed(filter string) bool {
	if filter == "#" {
		return true
	}
	rest, ok := strings.CutPrefix(filter, "devices/")
	if !ok {
		return false
	}
	id, rest, ok := strings.Cut(rest, "/")
	if !ok || id == "" || strings.Contains(id, "#") {
		return false
	}
	return strings.HasPrefix(rest, "messages/events/")
}

// cutDevice returns what follows "devices/{id}" in topic.
func cutDevice(topic, id string) (string, bool) {
	rest, ok := strings.CutPrefix(topic, "devices/")
	if !ok {
		return "", false
	}
	return strings.CutPrefix(rest, id)
}
