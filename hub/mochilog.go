package hub

import (
	"context"
	"log/slog"
)

// packetRedactor wraps the handler given to mochi and replaces the packets
// mochi attaches to some log lines ("pk", "packet") by their type: a
// packet may be a CONNECT carrying a SAS token (mochi logs a second CONNECT
// in full), and payloads do not belong in logs either.
type packetRedactor struct{ slog.Handler }

func (r packetRedactor) Handle(ctx context.Context, rec slog.Record) error {
	redacted := false
	rec.Attrs(func(a slog.Attr) bool {
		redacted = redacted || isPacketKey(a.Key)
		return !redacted
	})
	if !redacted {
		return r.Handler.Handle(ctx, rec)
	}
	out := slog.NewRecord(rec.Time, rec.Level, rec.Message, rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		if isPacketKey(a.Key) {
			a = slog.String(a.Key, "[packet omitted]")
		}
		out.AddAttrs(a)
		return true
	})
	return r.Handler.Handle(ctx, out)
}

func (r packetRedactor) WithAttrs(as []slog.Attr) slog.Handler {
	for i, a := range as {
		if isPacketKey(a.Key) {
			as[i] = slog.String(a.Key, "[packet omitted]")
		}
	}
	return packetRedactor{r.Handler.WithAttrs(as)}
}

func (r packetRedactor) WithGroup(name string) slog.Handler {
	return packetRedactor{r.Handler.WithGroup(name)}
}

func isPacketKey(k string) bool { return k == "pk" || k == "packet" }
