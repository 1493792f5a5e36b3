# tests/pipeline/report_fixture.sh — make_report_db DB [SLOW]: a results database holding one finished
# run shaped like a real one (sourced by tests/e2e/test_report.sh). Two trained models (methods
# uniform and individual, 4 subnets w0.25..w1.0 each) and their profile stages: 4 subnets x batch
# 1 and 8 x mappings cpus=0 threads=1 / cpus=0-1 threads=2 x 600 and 1200 MHz, 5 samples and an
# energy reading each. SLOW=1 makes the smallest uniform subnet 50 % slower (a latency regression).
# Run uuid: 11111111-2222-4333-8444-555555555555. Needs the sqlite3 CLI (ci/deps.sh).

make_report_db() {
  local db=$1 slow=${2:-0}
  sqlite3 "$db" < "$ROOT/db/schema.sql" || return 1
  awk -v slow="$slow" 'BEGIN {
    print "PRAGMA user_version = 7; BEGIN;"
    print "INSERT INTO experiments VALUES (1, \x27fixture\x27, 1700000000);"
    print "INSERT INTO runs VALUES (1, \x2711111111-2222-4333-8444-555555555555\x27, 1, \x27fixture.yaml\x27, \x27abc123\x27, \x27FINISHED\x27, 1700000000, 1700000100, \x27deadbeef0001\x27, 0, \x27testhost\x27, \x27Test CPU @ 2GHz\x27, \x27gcc 12\x27, \x27-O3\x27, \x270.1.0\x27, \x270.1.0+deadbeef0001\x27, 1, \x27dynn run fixture.yaml\x27, 1, 1);"
    split("uniform individual", methods, " ")
    split("0.80 0.85 0.88 0.90", acc_u, " "); split("0.81 0.855 0.87 0.905", acc_i, " ")
    split("0.25 0.5 0.75 1.0", widths, " ")
    mid = 0; sid = 0
    for (k = 1; k <= 2; k++) {
      m = methods[k]; train = ++sid; prof = ++sid
      printf "INSERT INTO stages(id, run_id, name, stage, type, status, threads) VALUES (%d, 1, \x27train@method=%s\x27, \x27train\x27, \x27train\x27, \x27FINISHED\x27, 1);\n", train, m
      printf "INSERT INTO stages(id, run_id, name, stage, type, status, threads) VALUES (%d, 1, \x27profile@method=%s\x27, \x27profile\x27, \x27profile\x27, \x27FINISHED\x27, 1);\n", prof, m
      printf "INSERT INTO params VALUES (%d, \x27method\x27, \x27%s\x27), (%d, \x27platform\x27, \x27local\x27);\n", train, m, prof
      printf "INSERT INTO stage_needs VALUES (%d, %d);\n", prof, train
      printf "INSERT INTO metrics(stage_id, subnet, name, value) VALUES (%d, NULL, \x27train_seconds\x27, 12.5);\n", train
      for (s = 1; s <= 4; s++) {
        w = widths[s]; name = "w" w; a = (k == 1 ? acc_u[s] : acc_i[s])
        printf "INSERT INTO metrics(stage_id, subnet, name, value) VALUES (%d, \x27%s\x27, \x27accuracy\x27, %s), (%d, \x27%s\x27, \x27macs\x27, %d), (%d, \x27%s\x27, \x27width\x27, %s), (%d, \x27%s\x27, \x27subnet_index\x27, %d), (%d, \x27%s\x27, \x27params\x27, %d);\n", train, name, a, train, name, 40e6 * w * w, train, name, w, train, name, s - 1, train, name, 270000 * w * w
        for (b = 1; b <= 8; b += 7) for (map = 1; map <= 2; map++) for (f = 1; f <= 2; f++) {
          lat = (0.0002 + 0.002 * w * w) * (b == 1 ? 1 : 6) * (map == 1 ? 1 : 0.6) * (f == 2 ? 1 : 1.9)
          if (slow && k == 1 && s == 1) lat *= 1.5
          power = (map == 1 ? 1.0 : 1.7) * (f == 2 ? 1.5 : 0.7)
          printf "INSERT INTO measurement_results VALUES (%d, %d, \x27%s\x27, %.9g, 5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0);\n", ++mid, prof, name, lat * power * 5
          printf "INSERT INTO conditions VALUES (%d, \x27platform\x27, \x27local\x27), (%d, \x27batch\x27, %d), (%d, \x27threads\x27, %d), (%d, \x27cpus\x27, \x27%s\x27), (%d, \x27cpu_freq\x27, %d), (%d, \x27backend\x27, \x27cpu\x27), (%d, \x27device\x27, \x27x86_64\x27);\n", mid, mid, b, mid, map, mid, map == 1 ? "0" : "0-1", mid, f == 2 ? 1200000 : 600000, mid, mid
          for (i = 0; i < 5; i++) printf "INSERT INTO latency_samples VALUES (%d, %d, %.9g);\n", mid, i, lat * (1 + 0.01 * ((i * 3) % 5 - 2))
        }
      }
    }
    print "COMMIT;"
  }' | sqlite3 "$db"
}
