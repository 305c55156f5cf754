# bench/search-latency.gp -- POST /api/search latency (p50, p99) and the workers' event-loop
# lag (p99) against concurrent connections, from search.dat (columns: connections rps p50_ms
# p99_ms lag_p99_ms lag_max_ms). Both axes logarithmic.
dat = outdir.'search.dat'
set logscale xy
set xlabel "concurrent connections (wrk)"
set ylabel "ms (log scale)"
set xrange [0.8:260]
set xtics (1, 2, 5, 10, 20, 50, 100, 200)
plot dat using 1:3 with linespoints ls 1 title "latency p50", \
     dat using 1:4 with linespoints ls 2 title "latency p99", \
     dat using 1:5 with linespoints ls 3 title "event-loop lag p99", \
     dat using 1:3:(sprintf("%.1f", $3)) with labels offset 0, -1 tc rgb "#1f77b4" notitle, \
     dat using 1:4:(sprintf("%.0f", $4)) with labels offset 0, 1 tc rgb "#d62728" notitle
