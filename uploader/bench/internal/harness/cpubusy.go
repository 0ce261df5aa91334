package harness

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// cpuTimes is the first line of /proc/stat: the CPU time of every core since boot, in clock
// ticks, as busy (user, nice, system, irq, softirq, steal) and all (busy plus idle and iowait).
func cpuTimes() (busy, all uint64, err error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return 0, 0, fmt.Errorf("read /proc/stat: %w", err)
	}
	return parseCPUTimes(line)
}

// parseCPUTimes reads the aggregate "cpu" line of /proc/stat.
func parseCPUTimes(line string) (busy, all uint64, err error) {
	fields := strings.Fields(line)
	if len(fields) < 8 || fields[0] != "cpu" {
		return 0, 0, fmt.Errorf("unexpected /proc/stat line %q", line)
	}
	// user nice system idle iowait irq softirq steal [guest guest_nice, already in user/nice]
	for i, f := range fields[1:min(len(fields), 9)] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("unexpected /proc/stat line %q: %w", line, err)
		}
		all += v
		if i != 3 && i != 4 {
			busy += v
		}
	}
	return busy, all, nil
}

// startCPUBusy starts measuring; the function it returns is the share of the machine's CPU
// time that was busy since (0 when /proc/stat cannot be read).
func startCPUBusy() func() float64 {
	b0, a0, err := cpuTimes()
	return func() float64 {
		b1, a1, err1 := cpuTimes()
		if err != nil || err1 != nil || a1 <= a0 {
			return 0
		}
		return float64(b1-b0) / float64(a1-a0)
	}
}
