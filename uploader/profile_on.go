//go:build profile

package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiling, in a binary built with -tags profile, writes a CPU profile to
// $UPLOADER_CPU_PROFILE and a heap profile to $UPLOADER_MEM_PROFILE (each when set). It is how
// uploader/bench/README.md's profiles were taken; release builds leave it out.
func startProfiling() (stop func()) {
	var cpu *os.File
	if p := os.Getenv("UPLOADER_CPU_PROFILE"); p != "" {
		f, err := os.Create(p)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "uploader: cpu profile %s: %v\n", p, err)
		} else {
			cpu = f
		}
	}
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			_ = cpu.Close()
		}
		if p := os.Getenv("UPLOADER_MEM_PROFILE"); p != "" {
			f, err := os.Create(p)
			if err == nil {
				runtime.GC()
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "uploader: memory profile %s: %v\n", p, err)
			}
		}
	}
}
