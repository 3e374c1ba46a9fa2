# tests/integration/bench_phases_table.awk: bench_phases.sh's table. Input:
# "VMM KEY MS" lines (every run of every VMM); variables vmms (the columns,
# the first is the one the ratios divide), drivers (initcalls always shown)
# and topn (how many other initcalls, the costliest). A phase or initcall a
# VMM's runs lack shows "-". Plain awk (mawk).

function median(vmm, key,   m, i, j, a, x) {
	m = cnt[vmm, key]
	if (m == 0)
		return -1
	for (i = 1; i <= m; i++)
		a[i] = val[vmm, key, i]
	for (i = 2; i <= m; i++) {          # insertion sort: a few runs
		x = a[i]
		for (j = i - 1; j >= 1 && a[j] > x; j--)
			a[j + 1] = a[j]
		a[j + 1] = x
	}
	return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}

function row(label, key,   i, m, base) {
	printf "%-32s", label
	for (i = 1; i <= nv; i++) {
		m = median(v[i], key)
		printf " %10s", (m < 0 ? "-" : sprintf("%.1f", m))
	}
	base = median(v[1], key)
	for (i = 2; i <= nv; i++) {
		m = median(v[i], key)
		printf " %10s", (base > 0 && m > 0 ? sprintf("%.2f", base / m) : "-")
	}
	printf "\n"
}

{
	k = $2
	val[$1, k, ++cnt[$1, k]] = $3
	if (!(k in known)) {
		known[k] = 1
		keys[++nk] = k
	}
}

END {
	nv = split(vmms, v, " ")
	nd = split(drivers, d, " ")
	for (i = 1; i <= nd; i++)
		named["ic:" d[i]] = 1
	printf "\n%-32s", "phase (median ms)"
	for (i = 1; i <= nv; i++)
		printf " %10s", v[i]
	for (i = 2; i <= nv; i++)
		printf " %10s", v[1] "/" v[i]
	printf "\n"
	for (i = 1; i <= nk; i++)
		if (keys[i] !~ /^ic:/)
			row(keys[i], keys[i])
	printf "initcalls (median ms):\n"
	for (i = 1; i <= nd; i++)
		if (("ic:" d[i]) in known)
			row("  " d[i], "ic:" d[i])
	# The costliest others: the largest median over the VMMs, best first.
	for (i = 1; i <= nk; i++) {
		if (keys[i] !~ /^ic:/ || keys[i] in named)
			continue
		worst = 0
		for (j = 1; j <= nv; j++)
			if ((m = median(v[j], keys[i])) > worst)
				worst = m
		cand[++nc] = keys[i]
		cost[nc] = worst
	}
	for (shown = 0; shown < topn && shown < nc; shown++) {
		best = 0
		for (i = 1; i <= nc; i++)
			if (!(i in taken) && (best == 0 || cost[i] > cost[best]))
				best = i
		taken[best] = 1
		row("  " substr(cand[best], 4), cand[best])
	}
}
