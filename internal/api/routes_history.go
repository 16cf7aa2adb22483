package api

// historyRoutes are the history routes (owned by the history feature).
func (a *API) historyRoutes() []Route { return nil }
