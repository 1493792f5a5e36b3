/* reports/plot.h — renders one figure with gnuplot as PNG (pngcairo) and SVG.
 *
 * The caller writes the figure's data files into the plot directory and gives the plotting
 * commands; plot_render writes NAME.gp (terminal, output, the commands, then the SVG terminal and
 * `replot`) and runs `gnuplot NAME.gp` in that directory (posix_spawn, no shell), its messages in
 * NAME.log. The .gp and data files stay beside the images, so a figure can be re-drawn by hand. */
#ifndef DYNN_REPORTS_PLOT_H
#define DYNN_REPORTS_PLOT_H

#include "util/err.h"

#define PLOT_WIDTH 900
#define PLOT_HEIGHT 560

/* Writes dir/NAME.gp and runs gnuplot: dir/NAME.png and dir/NAME.svg. DYNN_GNUPLOT overrides the
 * program (default "gnuplot", looked up in PATH). */
int plot_render(const char *dir, const char *name, const char *commands, Err *err);

/* Writes text to dir/file (plain write; the report directory is renamed into place as a whole). */
int plot_write_file(const char *dir, const char *file, const char *text, Err *err);

/* A string as a gnuplot single-quoted literal ('' doubles a quote), for titles and labels. */
void plot_quote(char *out, size_t size, const char *s);

#endif
