# expect: E010 3:2
# attack: byte order mark before an import
﻿import os
