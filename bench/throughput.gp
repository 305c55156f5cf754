# bench/throughput.gp -- requests per second against concurrent connections for GET
# /api/health (health.dat) and POST /api/search (search.dat), whichever are there (columns:
# connections rps ...). Both axes logarithmic.
h = outdir.'health.dat'
s = outdir.'search.dat'
have_h = system("test -s '".h."' && echo 1 || echo 0") + 0
have_s = system("test -s '".s."' && echo 1 || echo 0") + 0
set logscale xy
set xlabel "concurrent connections (wrk)"
set ylabel "requests/s (log scale)"
set xrange [0.8:260]
set xtics (1, 2, 5, 10, 20, 50, 100, 200)
set key bottom right
H = 'h using 1:2 with linespoints ls 1 title "GET /api/health", h using 1:2:(sprintf("%.0f", $2)) with labels offset 0, 1 tc rgb "#1f77b4" notitle'
S = 's using 1:2 with linespoints ls 2 title "POST /api/search", s using 1:2:(sprintf("%.0f", $2)) with labels offset 0, 1 tc rgb "#d62728" notitle'
if (have_h && have_s) {
    plot @H, @S
} else {
    if (have_h) { plot @H } else { plot @S }
}
