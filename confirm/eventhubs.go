package confirm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"
	"golang.org/x/sync/errgroup"

	"github.com/fleetbench/fleetbench/scenario"
)

// Event Hubs receive batching: ReceiveEvents returns when it has
// ehBatch events or ehWait has passed, so receipt times (and end-to-end
// latency on this path) include up to ehWait of batching; device-to-hub
// latency, from the enqueued time, does not.
const (
	ehBatch = 100
	ehWait  = 20 * time.Millisecond
)

// eventHubsSource reads every partition of an Event Hub (such as Azure IoT
// Hub's built-in Event Hub-compatible endpoint) from the run's start time,
// through azeventhubs, which handles CBS authentication, partition links,
// retries and resuming after the last event received.
//
// Compile-tested only: no Event Hubs service can run on the test machine.
type eventHubsSource struct {
	connStr       string
	consumerGroup string
	start         time.Time
	ready         readyOnce
	stats         stats
}

func newEventHubs(c *scenario.Confirm, d Deps) (Source, error) {
	if c.ConnectionStringEnv == "" {
		return nil, errors.New("confirm: azure-eventhubs needs connection_string_env (the variable holding the Event Hub-compatible connection string, Endpoint=sb://...;EntityPath=...)")
	}
	cs, err := lookupSecret(d, c.ConnectionStringEnv, "", "confirm.connection_string_env")
	if err != nil {
		return nil, err
	}
	group := c.ConsumerGroup
	if group == "" {
		group = azeventhubs.DefaultConsumerGroup
	}
	start := d.Start
	if start.IsZero() {
		start = d.Now()
	}
	return &eventHubsSource{connStr: cs, consumerGroup: group, start: start, ready: newReady()}, nil
}

func (s *eventHubsSource) Ready() <-chan struct{} { return s.ready.ch }

func (s *eventHubsSource) Stats() SourceStats { return s.stats.snapshot() }

// Run implements Source: one goroutine per partition.
func (s *eventHubsSource) Run(ctx context.Context, deliver Deliver) error {
	client, err := azeventhubs.NewConsumerClientFromConnectionString(s.connStr, "", s.consumerGroup, nil)
	if err != nil {
		// The SDK's message may quote the connection string: do not wrap it.
		return errors.New("confirm: azure-eventhubs: the connection string is not valid (want Endpoint=sb://...;SharedAccessKeyName=...;SharedAccessKey=...;EntityPath=...)")
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = client.Close(cctx)
	}()
	pctx, cancel := context.WithTimeout(ctx, dialTimeout)
	props, err := client.GetEventHubProperties(pctx, nil)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		s.stats.fail(err)
		return fmt.Errorf("confirm: azure-eventhubs: read the hub's partitions: %w (check the connection string's policy has the Listen right, and the consumer group)", err)
	}
	start := s.start
	parts := make([]*azeventhubs.PartitionClient, 0, len(props.PartitionIDs))
	defer func() {
		for _, pc := range parts {
			cctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
			_ = pc.Close(cctx)
			cancel()
		}
	}()
	for _, id := range props.PartitionIDs {
		pc, err := client.NewPartitionClient(id, &azeventhubs.PartitionClientOptions{
			StartPosition: azeventhubs.StartPosition{EnqueuedTime: &start, Inclusive: true},
		})
		if err != nil {
			return fmt.Errorf("confirm: azure-eventhubs: partition %s: %w", id, err)
		}
		parts = append(parts, pc)
	}
	s.stats.connected(false)
	s.ready.done()
	g, gctx := errgroup.WithContext(ctx)
	for i, pc := range parts {
		id := props.PartitionIDs[i]
		g.Go(func() error { return s.partition(gctx, id, pc, deliver) })
	}
	if err := g.Wait(); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// partition receives one partition until ctx ends or a fatal error.
func (s *eventHubsSource) partition(ctx context.Context, id string, pc *azeventhubs.PartitionClient, deliver Deliver) error {
	failing := 0
	for ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, ehWait)
		events, err := pc.ReceiveEvents(rctx, ehBatch, nil)
		cancel()
		now := time.Now()
		for _, ev := range events {
			var enq time.Time
			if ev.EnqueuedTime != nil {
				enq = *ev.EnqueuedTime
			}
			s.stats.received.Add(1)
			deliver(ev.Body, now, enq)
		}
		switch {
		case err == nil || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
			if failing > 0 && err == nil {
				s.stats.connected(true) // receiving again after errors
			}
			if err == nil {
				failing = 0
			}
		default:
			s.stats.fail(err)
			var ehErr *azeventhubs.Error
			if errors.As(err, &ehErr) && (ehErr.Code == azeventhubs.ErrorCodeOwnershipLost || ehErr.Code == azeventhubs.ErrorCodeUnauthorizedAccess) {
				return fmt.Errorf("confirm: azure-eventhubs: partition %s: %w (another reader with a higher owner level, or the policy lacks Listen: use your own consumer group)", id, err)
			}
			if !sleepCtx(ctx, backoff(failing, jitter())) {
				return nil
			}
			failing++
		}
	}
	return nil
}
