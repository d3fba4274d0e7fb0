package workflows

import "github.com/tempobill/billing/zoneinfo"

// LoadLocation is the zone loader workflows use, for package workflows_test.
var LoadLocation = zoneinfo.Load
