package kube

import (
	"math"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Sizing figures, measured on the reference VM (docs/design.md, "Memory
// and the GC target", and the CPU tables there). A pod's requests are
// derived from them with Margin on top, so that a shard is not OOM-killed
// or starved mid-run: either would cost the run that shard.
const (
	MemPerDevice     = 20 << 10 // bytes: peak RSS growth per connected TLS device, 18.5–20.1 KiB measured
	MemBase          = 64 << 20 // bytes: the runtime, histograms, output buffers, at no devices
	CPUPerConnect    = 460e-6   // CPU seconds per TLS connect (395–458 µs measured)
	CPUPerMessage    = 70e-6    // CPU seconds per QoS 1 message, precise pacing (59–69 µs measured)
	Margin           = 1.5      // headroom over the measured figures
	MinCPUMilli      = 250      // no pod asks for less CPU than this
	coordinatorMem   = 256 << 20
	coordinatorMilli = 500
)

// ShardResources sizes one shard pod for devices devices, connecting at
// connectRate/s and publishing at publishRate msg/s (its share of the
// fleet's):
//
//	memory = (MemBase + devices × MemPerDevice) × Margin, rounded up to MiB;
//	         request = limit (a shard is not evicted before others)
//	cpu    = max(connectRate × CPUPerConnect, publishRate × CPUPerMessage) × Margin,
//	         at least MinCPUMilli; a request only: a CPU limit would throttle
//	         the pacer and show up as lateness, not as the target's latency
//
// The connect ramp and the publish phase barely overlap, hence the max.
func ShardResources(devices int, connectRate, publishRate float64) corev1.ResourceRequirements {
	mem := mib(float64(MemBase+devices*MemPerDevice) * Margin)
	cores := max(connectRate*CPUPerConnect, publishRate*CPUPerMessage) * Margin
	milli := max(int64(math.Ceil(cores*1000)), MinCPUMilli)
	return requirements(milli, mem)
}

// CoordinatorResources sizes the coordinator: it holds the shards'
// latest histograms and merges them, whatever the fleet's size.
func CoordinatorResources() corev1.ResourceRequirements {
	return requirements(coordinatorMilli, coordinatorMem>>20)
}

func requirements(milli, mebibytes int64) corev1.ResourceRequirements {
	cpu := *resource.NewMilliQuantity(milli, resource.DecimalSI)
	mem := resource.MustParse(strconv.FormatInt(mebibytes, 10) + "Mi")
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: cpu, corev1.ResourceMemory: mem},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: mem},
	}
}

// mib rounds bytes up to whole MiB.
func mib(bytes float64) int64 { return int64(math.Ceil(bytes / (1 << 20))) }
