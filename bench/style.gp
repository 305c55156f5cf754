# bench/style.gp -- what every benchmark chart shares (loaded by bench/chart.sh before the
# chart's own script, with out and ttl set): an 800x450 PNG, the title with its machine,
# corpus and settings lines, light grid, one colour per series.
set terminal pngcairo noenhanced size 800,450 font "DejaVu Sans,9" linewidth 1.5
set output out
set title ttl font "DejaVu Sans,9"
set grid lc rgb "#e0e0e0" lw 0.5
set border 3 lc rgb "#606060"
set tics nomirror
set key top left box lc rgb "#c0c0c0" opaque
set style line 1 lc rgb "#1f77b4" pt 7 ps 1.0
set style line 2 lc rgb "#d62728" pt 5 ps 1.0
set style line 3 lc rgb "#2ca02c" pt 9 ps 1.1
set style line 4 lc rgb "#7f7f7f" dt 2 lw 1
