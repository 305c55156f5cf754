# bench/ingest-rate.gp -- lexrag-ingest load: units per second of each phase and overall, from
# ingest.dat (columns: phase units seconds units_per_s). Logarithmic: the phases differ by
# orders of magnitude.
dat = outdir.'ingest.dat'
set logscale y
set ylabel "units/s (log scale)"
set yrange [100:*]
set xrange [-0.6:*]
set key off
set style fill solid 0.75 border lc rgb "#404040"
set boxwidth 0.6
plot dat using 0:4:xtic(1) with boxes lc rgb "#1f77b4", \
     dat using 0:4:(sprintf("%.0f/s (%.2f s)", $4, $3)) with labels offset 0, 0.8
