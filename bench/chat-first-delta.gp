# bench/chat-first-delta.gp -- time to first delta against concurrent streaming chats, from
# chat.dat (columns: chats completed first_p50 first_p99 done_p50 done_p99 worker_first_p50
# worker_first_p99): p50 and p99 as the clients saw them, the workers' own p99, and the target
# (p99 at most 1.2 times the p50 of one chat) as a dashed line.
dat = outdir.'chat.dat'
stats dat using 3 every ::0::0 nooutput
one = STATS_min
set logscale x
set xlabel "concurrent streaming chats (log scale)"
set ylabel "time to first delta, ms"
set xrange [0.8:260]
set yrange [0:*]
set xtics (1, 2, 5, 10, 20, 50, 100, 150, 200)
plot dat using 1:3 with linespoints ls 1 title "first delta p50", \
     dat using 1:4 with linespoints ls 2 title "first delta p99", \
     dat using 1:8 with linespoints ls 3 dt 3 title "worker's own first token p99 (timings_ms)", \
     1.2 * one with lines ls 4 title sprintf("target: p99 <= 1.2 x p50 of one chat = %.0f ms", 1.2 * one), \
     dat using 1:3:(sprintf("%.0f", $3)) with labels offset 0, -1 tc rgb "#1f77b4" notitle, \
     dat using 1:4:(sprintf("%.0f", $4)) with labels offset 0, 1 tc rgb "#d62728" notitle
