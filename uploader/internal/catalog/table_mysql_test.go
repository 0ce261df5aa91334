package catalog

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

func TestTable_MySQL(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MariaDB")
	}
	t.Parallel()
	my := testbed.StartMySQL(t)
	var n atomic.Int64
	engine := tableEngine{
		name:       "mysql",
		mediaTable: "media",
		newDSN: func(t *testing.T) string {
			dsn := my.CreateDatabase(t, fmt.Sprintf("suite_%d", n.Add(1)))
			loadSchema(t, "mysql", "media", dsn)
			return dsn
		},
	}
	runTableSuite(t, engine)
	runClaimSuite(t, engine)
}
