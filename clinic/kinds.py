"""The procedure kinds, as stored: plain constants, no Django.

The pure planner (`followup.rules`) and the models both read them here.
"""

ENDOSCOPIC = "endoscopic"
ENDOSCOPIC_STEM_CELL = "endoscopic_stem_cell"
KINDS = (ENDOSCOPIC, ENDOSCOPIC_STEM_CELL)
