package api

// userRoutes are the users routes (owned by the users feature).
func (a *API) userRoutes() []Route { return nil }
