package bench

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// TreePSSKB sums the proportional set size (Pss, in kB) of a process and all its descendants,
// from /proc: the memory a process tree such as Chromium's really costs. It returns 0 when
// nothing could be read.
func TreePSSKB(root int) int {
	children := map[int][]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: comm may hold spaces, so split after the last ')'.
		s := string(data)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		pid, _ := strconv.Atoi(strings.Fields(s)[0])
		if len(fields) > 1 {
			ppid, _ := strconv.Atoi(fields[1])
			children[ppid] = append(children[ppid], pid)
		}
	}
	total := 0
	for queue := []int{root}; len(queue) > 0; queue = queue[1:] {
		total += pssKB(queue[0])
		queue = append(queue, children[queue[0]]...)
	}
	return total
}

func pssKB(pid int) int {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Pss:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return kb
		}
	}
	return 0
}
