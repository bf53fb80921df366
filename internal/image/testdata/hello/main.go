// hello is the smallest program the image tests can put in an image.
package main

import "fmt"

func main() { fmt.Println("hello from the image") }
