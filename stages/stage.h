/* stages/stage.h — kept for plugins written against the first layout of the headers, which included
 * "stages/stage.h": the plugin ABI is pipeline/dynn_plugin.h (docs/PLUGINS.md), the stage interface
 * pipeline/stage.h. Nothing in dynn includes this file; new plugins include pipeline/dynn_plugin.h. */
#ifndef DYNN_STAGES_STAGE_H
#define DYNN_STAGES_STAGE_H

#include "pipeline/dynn_plugin.h"

#endif
