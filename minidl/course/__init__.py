"""Course support: the chapter runner, the tour of all chapters, figures and the demos the chapters run."""
