# expect: E010 3:2
# attack: form feed before an import
import os
