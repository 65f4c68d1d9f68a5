"""The front desk's worklist page: views, the row actions' forms, the URL's
state and the rows as shown."""
