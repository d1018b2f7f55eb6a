package facts

// What the external tests compare with unexported code.
var (
	Centuries   = centuries
	CenturySign = centurySign
)

var (
	KnownRoleName = knownRoleName
	GluedBefore   = gluedBefore
	GluedAfter    = gluedAfter
)
